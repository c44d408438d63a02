// Per-head L2 normalisation to Q15 (see l2norm_fixed.h).
#include "ops/int8/l2norm_fixed.h"

#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8 {

void l2norm_fixed_q15(const int32_t* v, int64_t n_head, int64_t head_dim, int16_t* out) {
  for (int64_t h = 0; h < n_head; ++h) {
    const int32_t* x = v + h * head_dim;
    int16_t* y = out + h * head_dim;
    uint64_t max_abs = 0;
    for (int64_t i = 0; i < head_dim; ++i) {
      const uint64_t a = uint64_t(x[i] < 0 ? -int64_t(x[i]) : int64_t(x[i]));
      if (a > max_abs) max_abs = a;
    }
    if (max_abs == 0) {
      for (int64_t i = 0; i < head_dim; ++i) y[i] = 0;
      continue;
    }
    int shift = 0;  // keep squares summed over ≤ 2^15 entries inside uint64
    while ((max_abs >> shift) >= (uint64_t(1) << 24)) ++shift;
    uint64_t sumsq = 0;
    for (int64_t i = 0; i < head_dim; ++i) {
      const int64_t d = rounding_shift_right_64(x[i], shift);
      sumsq += uint64_t(d * d);
    }
    const ReciprocalSqrt inv = reciprocal_sqrt(sumsq == 0 ? 1 : sumsq);
    for (int64_t i = 0; i < head_dim; ++i) {
      const int64_t d = rounding_shift_right_64(x[i], shift);
      y[i] = saturate_to_int16(rounding_shift_right_64(d * inv.mantissa, inv.exponent - 15));
    }
  }
}

}  // namespace tessera::ops::int8
