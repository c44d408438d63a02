// Per-head fixed-point mixes, portable (see leaky_average_fixed.h).
#include "ops/int8/leaky_average_fixed.h"

#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8 {

void mix_heads_fixed(const int32_t* x, const int32_t* y, const int32_t* a, const int32_t* b, int frac_bits,
                     int64_t n_head, int64_t head_dim, int32_t* out) {
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = h * head_dim; i < (h + 1) * head_dim; ++i) {
      // One rounding for the sum, in 64 bits.
      const int64_t mix = int64_t(a[h]) * x[i] + int64_t(b[h]) * y[i];
      out[i] = saturate_to_int32(rounding_shift_right_64(mix, frac_bits));
    }
}

}  // namespace tessera::ops::int8
