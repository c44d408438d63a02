// gemmlowp-style requantisation primitives and the integer (reciprocal) square root against
// exact references computed here in 128-bit integers / long double.
#include "ops/int8/fixed_point.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tessera::ops::int8 {
namespace {

// round(n / 2^e) with ties away from zero, exactly (128-bit).
int64_t exact_round_shift(__int128 n, int e) {
  const __int128 d = __int128(1) << e;
  const __int128 a = n < 0 ? -n : n;
  const __int128 q = (a + d / 2) / d;
  return int64_t(n < 0 ? -q : q);
}

TEST(Int8FixedPoint, SaturatingRoundingDoublingHighMulMatchesExactRounding) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = int32_t(rng()), b = int32_t(rng());
    if (a == INT32_MIN && b == INT32_MIN) continue;
    // gemmlowp rounds half away from zero: exactly round(a·b / 2^31).
    EXPECT_EQ(saturating_rounding_doubling_high_mul(a, b), exact_round_shift(__int128(a) * b, 31)) << a << " " << b;
  }
  EXPECT_EQ(saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);  // 0.5·0.5 = 0.25
}

TEST(Int8FixedPoint, RoundingDivideByPotRoundsHalfAwayFromZero) {
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);    // 2.5 → 3
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5 → -3
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);  // -1.5 → -2
  EXPECT_EQ(rounding_divide_by_pot(7, 2), 2);    // 1.75 → 2
  std::mt19937_64 rng(2);
  for (int i = 0; i < 100000; ++i) {
    const int32_t x = int32_t(rng());
    const int e = int(rng() % 31) + 1;
    EXPECT_EQ(rounding_divide_by_pot(x, e), exact_round_shift(x, e)) << x << " " << e;
    EXPECT_EQ(rounding_shift_right_64(int64_t(x) << 20, e + 20), exact_round_shift(x, e));
  }
}

TEST(Int8FixedPoint, MultiplyByQuantizedMultiplierApproximatesRealProduct) {
  // m = M·2^(shift-31); result within 1 of x·m (two roundings, each ≤ 1/2).
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    const int32_t x = int32_t(rng() % 2000001) - 1000000;
    const QuantizedMultiplier m{int32_t((1u << 30) + (rng() % (1u << 30))), int32_t(rng() % 20) - 15};
    const long double real = (long double)x * m.multiplier * std::ldexp(1.0L, m.shift - 31);
    if (std::fabs(real) > 2e9L) continue;
    EXPECT_LE(std::fabs((long double)multiply_by_quantized_multiplier(x, m) - real), 1.0L) << x;
  }
  // Saturation: a huge left shift saturates instead of wrapping.
  // 2^20·2^20 saturates to ±2^31 before the ×0.5 high-mul: ±2^30, sign kept.
  EXPECT_EQ(multiply_by_quantized_multiplier(1 << 20, {1 << 30, 20}), 1 << 30);
  EXPECT_EQ(multiply_by_quantized_multiplier(-(1 << 20), {1 << 30, 20}), -(1 << 30));
}

TEST(Int8FixedPoint, IntegerSquareRootIsExactFloor) {
  std::mt19937_64 rng(4);
  for (uint64_t x : {0ull, 1ull, 2ull, 3ull, 4ull, 15ull, 16ull, 17ull, ~0ull, (1ull << 62), (1ull << 62) - 1})
    ASSERT_TRUE(__int128(isqrt64(x)) * isqrt64(x) <= x && (__int128(isqrt64(x)) + 1) * (__int128(isqrt64(x)) + 1) > x)
        << x;
  // Perfect squares and their neighbours (where a Newton start or stop rule would be off by one), and the
  // edges of isqrt64's start-table buckets.
  for (int i = 0; i < 100000; ++i) {
    const uint64_t r = (rng() >> (rng() % 64)) & 0xFFFFFFFFull;
    for (uint64_t x : {r * r, r * r - 1, r * r + 1, r * r + 2 * r, (rng() % 192 + 64) << (rng() % 55)}) {
      const uint64_t s = isqrt64(x);
      ASSERT_LE(__int128(s) * s, __int128(x)) << x;
      ASSERT_GT(__int128(s + 1) * (s + 1), __int128(x)) << x;
    }
  }
  for (int i = 0; i < 100000; ++i) {
    const uint64_t x = rng() >> (rng() % 64);
    const uint64_t s = isqrt64(x);
    ASSERT_LE(__int128(s) * s, __int128(x)) << x;
    ASSERT_GT(__int128(s + 1) * (s + 1), __int128(x)) << x;
  }
}

TEST(Int8FixedPoint, ReciprocalSqrtRelativeErrorBelow2PowMinus29) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t x = (rng() >> (rng() % 64)) | 1;
    const ReciprocalSqrt r = reciprocal_sqrt(x);
    ASSERT_GE(r.mantissa, 1 << 30);
    const long double got = r.mantissa * std::ldexp(1.0L, -r.exponent);
    const long double ref = 1.0L / std::sqrt((long double)x);
    // Error sources: floor of the normalised sqrt (< 2^-30 relative), truncation of the division
    // (< 2^-30), and the dropped low bits when x ≥ 2^62 (< 2^-60): total < 2^-29.
    ASSERT_LT(std::fabs(got - ref) / ref, std::ldexp(1.0L, -29)) << x;
  }
}

}  // namespace
}  // namespace tessera::ops::int8
