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
  // |x| / 2^e <= 1/2 from e = 32 on: 0, except -2^31 / 2^32 = -1/2, which rounds away from zero. (Shifting
  // an int32 by 32 or more is undefined; plans keep e <= 31, tests go beyond.)
  if (exponent >= 32) return exponent == 32 && x == INT32_MIN ? -1 : 0;
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
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(saturating_left_shift(x, left), m.multiplier),
                                right);
}

// x · M · 2^(shift-31) for an int64 x (the wide accumulators: int16 weights or activations, whose
// sums reach ~2^47), rounded once, ties away from zero, saturated to int32. Exact: the 95-bit
// product |x|·M is formed in two uint64 halves (no __int128: this also builds for 32-bit ARM).
inline int32_t multiply_by_quantized_multiplier_64(int64_t x, QuantizedMultiplier m) {
  if (x == 0 || m.multiplier <= 0) return 0;
  const bool negative = x < 0;
  const uint64_t ax = negative ? uint64_t(0) - uint64_t(x) : uint64_t(x);
  const uint64_t mult = uint64_t(m.multiplier);
  const uint64_t p0 = (ax & 0xFFFFFFFFu) * mult;  // < 2^63
  const uint64_t p1 = (ax >> 32) * mult;          // < 2^63
  uint64_t lo = p0 + (p1 << 32);
  uint64_t hi = (p1 >> 32) + (lo < p0 ? 1 : 0);          // product = hi·2^64 + lo
  const int r = 31 - m.shift;                            // result = round(product / 2^r)
  if (r <= 0) return negative ? -INT32_MAX : INT32_MAX;  // multiplier ≥ 2^30: any x ≠ 0 saturates
  if (r >= 127) return 0;
  if (r - 1 < 64) {  // + 2^(r-1): round half away from zero on the magnitude
    const uint64_t half = uint64_t(1) << (r - 1), before = lo;
    lo += half;
    hi += lo < before ? 1 : 0;
  } else {
    hi += uint64_t(1) << (r - 1 - 64);
  }
  uint64_t q;
  if (r >= 64) {
    q = r - 64 >= 64 ? 0 : hi >> (r - 64);
  } else {
    if ((hi >> r) != 0) return negative ? -INT32_MAX : INT32_MAX;
    q = (lo >> r) | (hi << (64 - r));
  }
  if (q > uint64_t(INT32_MAX)) q = uint64_t(INT32_MAX);
  return negative ? -int32_t(q) : int32_t(q);
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
// The int16 activation range: ±32512 = ±127·256, the largest on which every value splits exactly into
// two int8 planes x = 255·hi + lo, |hi|, |lo| ≤ 127 (matvec_wide.h).
inline constexpr int32_t kWideMax = 32512;
inline int16_t saturate_to_wide(int64_t x) {
  return int16_t(x > kWideMax ? kWideMax : (x < -kWideMax ? -kWideMax : x));
}

// Number of leading zero bits of a 64-bit value (64 for 0): the compiler's builtin (one instruction on
// x86-64, AArch64 and Cortex-M4's CLZ), a portable loop elsewhere.
inline int count_leading_zeros_64(uint64_t x) {
  if (x == 0) return 64;
#if defined(__GNUC__)
  return __builtin_clzll(x);
#else
  int n = 0;
  while (!(x & (uint64_t(1) << 63))) {
    x <<= 1;
    ++n;
  }
  return n;
#endif
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
