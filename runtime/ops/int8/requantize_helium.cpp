// Helium (MVE) per-element requantisation (requantize.h) and the persistent memory's slot weights built
// on it (pmem_weights.h), for MVE targets only. Four lanes of TFLite's MultiplyByQuantizedMultiplier:
// VQSHL (saturating left shift), VQRDMULH (gemmlowp's saturating rounding doubling high multiply, the
// same rounding: half up), then gemmlowp's rounding divide by a power of two (a -1 fix-up on negative
// lanes, then VRSHL: ties away from zero). Same bits as the scalar functions in fixed_point.h.
#include <arm_mve.h>

#include "ops/int8/pmem_weights.h"
#include "ops/int8/requantize.h"
#include "ops/int8/softmax_fixed.h"

namespace tessera::ops::int8 {

void requantize_each_helium(const int32_t* x, const QuantizedMultiplier* m, int64_t n, int32_t* out) {
  static_assert(sizeof(QuantizedMultiplier) == 8, "multiplier, shift pairs");
  const int32_t zero_shift = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int32x4x2_t ms = vld2q_s32(reinterpret_cast<const int32_t*>(m + i));  // multipliers, shifts
    const int32x4_t left = vmaxq_s32(ms.val[1], vdupq_n_s32(zero_shift));
    const int32x4_t right = vminq_s32(ms.val[1], vdupq_n_s32(zero_shift));  // ≤ 0: a right shift
    const int32x4_t high = vqrdmulhq_s32(vqshlq_s32(vldrwq_s32(x + i), left), ms.val[0]);
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(high, right), 31);
    vstrwq_s32(out + i, vrshlq_s32(vqaddq_s32(high, fixup), right));
  }
  if (i < n) requantize_each_portable(x + i, m + i, n - i, out + i);
}

void pmem_weights_helium(const int32_t* dot, const QuantizedMultiplier* score_m, const QuantizedMultiplier* value_m,
                         int64_t n, int frac_bits, int32_t* scores, int32_t* p, const void* /*prefetch*/,
                         size_t /*prefetch_bytes*/) {
  requantize_each_helium(dot, score_m, n, scores);
  softmax_fixed_q23(scores, n, frac_bits, p);
  requantize_each_helium(p, value_m, n, p);
}

}  // namespace tessera::ops::int8
