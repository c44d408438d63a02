// Fixed-point leaky average (see leaky_average_fixed.h).
#include "ops/int8/leaky_average_fixed.h"

#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8 {

void leaky_average_fixed(int32_t* state, const int32_t* u, const int32_t* decay_q31, const int32_t* keep_q31,
                         int64_t n_head, int64_t head_dim) {
  for (int64_t h = 0; h < n_head; ++h) {
    int32_t* s = state + h * head_dim;
    const int32_t* x = u + h * head_dim;
    for (int64_t i = 0; i < head_dim; ++i) {
      // One rounding for the sum: (a·s + (1-a)·u) / 2^31 in 64 bits (|a·s| + |(1-a)·u| < 2^62).
      const int64_t mix = int64_t(decay_q31[h]) * s[i] + int64_t(keep_q31[h]) * x[i];
      s[i] = saturate_to_int32(rounding_shift_right_64(mix, 31));
    }
  }
}

}  // namespace tessera::ops::int8
