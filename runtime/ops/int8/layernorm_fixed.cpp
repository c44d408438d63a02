// Fixed-point LayerNorm (see layernorm_fixed.h).
#include "ops/int8/layernorm_fixed.h"

namespace tessera::ops::int8 {

namespace {

// Saturation bound: 127 (int8 output) or 32512 (int16 wide output).
template <class Out, int32_t kMax>
void layernorm_impl(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale, Out* out) {
  // Centred values are computed twice (no scratch buffer: this op must not allocate).
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  // Mean rounded to nearest (floor division is biased for negative sums).
  const int64_t mean = sum >= 0 ? (sum + n / 2) / n : -((-sum + n / 2) / n);
  uint64_t max_abs = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = int64_t(x[i]) - mean;
    const uint64_t a = uint64_t(d < 0 ? -d : d);
    if (a > max_abs) max_abs = a;
  }
  int shift = 0;
  while ((max_abs >> shift) >= (uint64_t(1) << 24)) ++shift;
  uint64_t sumsq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = rounding_shift_right_64(int64_t(x[i]) - mean, shift);
    sumsq += uint64_t(d * d);
  }
  const uint64_t var = sumsq / uint64_t(n) + (eps_int >> (2 * shift));
  const ReciprocalSqrt inv = reciprocal_sqrt(var == 0 ? 1 : var);
  // (d · inv) / s_out = d · m · M · 2^(shift_out - 31 - E); mm = m·M/2^31 ∈ [2^29, 2^31).
  const int32_t mm = saturating_rounding_doubling_high_mul(inv.mantissa, inv_out_scale.multiplier);
  const int right = inv.exponent - inv_out_scale.shift;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = rounding_shift_right_64(int64_t(x[i]) - mean, shift);
    int64_t q;
    if (right > 0) {
      q = rounding_shift_right_64(d * mm, right);
    } else {
      q = (d == 0) ? 0 : (d > 0 ? kMax : -kMax);  // |d|·2^29·2^(-right) ≫ kMax: saturates
      if (right == 0) q = d * mm;
    }
    const int32_t v = saturate_to_int32(q);
    out[i] = Out(v > kMax ? kMax : (v < -kMax ? -kMax : v));
  }
}

}  // namespace

void layernorm_fixed(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale, int8_t* out) {
  layernorm_impl<int8_t, 127>(x, n, eps_int, inv_out_scale, out);
}

void layernorm_fixed_wide(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale,
                          int16_t* out) {
  layernorm_impl<int16_t, kWideMax>(x, n, eps_int, inv_out_scale, out);
}

}  // namespace tessera::ops::int8
