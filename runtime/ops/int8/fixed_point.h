// Integer arithmetic shared by every int8 / fixed-point op. No floating point anywhere in this
// header: it is part of the fixed-point core that builds for Cortex-M4 with -mfloat-abi=soft.
//
// Requantisation follows the published gemmlowp / TFLite math (real = scale·q, zero point 0):
//   SaturatingRoundingDoublingHighMul(a, b) = round(a·b / 2^31), saturated (only INT32_MIN² saturates);
//   RoundingDivideByPOT(x, e)             = round(x / 2^e), ties away from zero.
// A real multiplier m > 0 is stored as (M, shift) with M ∈ [2^30, 2^31) and m = M·2^(shift-31).
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q31, in [2^30, 2^31) (0 means "multiply by 0")
  int32_t shift = 0;       // > 0: left shift before the high-mul; < 0: rounding right shift after
};

inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = int64_t(a) * int64_t(b);
  const int64_t nudge = ab >= 0 ? (int64_t(1) << 30) : 1 - (int64_t(1) << 30);
  // Division truncating toward zero, exactly as gemmlowp writes it.
  return int32_t((ab + nudge) / (int64_t(1) << 31));
}

inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  if (exponent <= 0) return x;
  const int32_t mask = int32_t((int64_t(1) << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

inline int32_t saturating_left_shift(int32_t x, int shift) {
  if (shift <= 0) return x;
  if (shift >= 31) return x > 0 ? INT32_MAX : (x < 0 ? INT32_MIN : 0);
  const int64_t y = int64_t(x) * (int64_t(1) << shift);
  if (y > INT32_MAX) return INT32_MAX;
  if (y < INT32_MIN) return INT32_MIN;
  return int32_t(y);
}

// x · M · 2^(shift-31), rounded (TFLite MultiplyByQuantizedMultiplier).
inline int32_t multiply_by_quantized_multiplier(int32_t x, QuantizedMultiplier m) {
  const int left = m.shift > 0 ? m.shift : 0;
  const int right = m.shift > 0 ? 0 : -m.shift;
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(saturating_left_shift(x, left), m.multiplier), right);
}

// round(x / 2^e) for 64-bit values, ties away from zero (same rule as RoundingDivideByPOT).
inline int64_t rounding_shift_right_64(int64_t x, int e) {
  if (e <= 0) return x;
  if (e >= 63) return 0;
  const int64_t half = int64_t(1) << (e - 1);
  return x >= 0 ? (x + half) >> e : -((-x + half) >> e);
}

inline int32_t saturate_to_int32(int64_t x) {
  return x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : int32_t(x));
}
inline int8_t saturate_to_int8(int32_t x) {  // symmetric range [-127, 127] (see docs/numerics.md)
  return int8_t(x > 127 ? 127 : (x < -127 ? -127 : x));
}
inline int16_t saturate_to_int16(int64_t x) {  // symmetric range [-32767, 32767]
  return int16_t(x > 32767 ? 32767 : (x < -32767 ? -32767 : x));
}

// Number of leading zero bits of a non-zero 64-bit value (portable; no builtin needed).
inline int count_leading_zeros_64(uint64_t x) {
  int n = 0;
  if (x == 0) return 64;
  while (!(x & (uint64_t(1) << 63))) {
    x <<= 1;
    ++n;
  }
  return n;
}

// floor(sqrt(x)) exactly, bit by bit (no division, no float).
uint32_t isqrt64(uint64_t x);

// 1/sqrt(x) for x > 0 as m·2^-e with m ∈ [2^30, 2^31): the integer reciprocal square root used by
// LayerNorm and the L2 norms. Relative error < 2^-29 (floor sqrt of a 61-62 bit mantissa, one
// 64-bit division).
struct ReciprocalSqrt {
  int32_t mantissa;
  int32_t exponent;
};
ReciprocalSqrt reciprocal_sqrt(uint64_t x);

}  // namespace tessera::ops::int8
