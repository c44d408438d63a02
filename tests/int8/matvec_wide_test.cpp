// Wide (int16) operands on the int8 kernels (ops/int8/matvec_wide.h) and the 64-bit requantisation:
// the plane split is exact over the whole int16 range, the plane-assembled product equals an int64
// reference dot product on every kernel (bit-identical), and multiply_by_quantized_multiplier_64
// equals exact 128-bit rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ops/int8/fixed_point.h"
#include "host_kernel_tables.h"
#include "ops/int8/matvec_wide.h"
#include "ops/int8/requantize.h"

namespace tessera::ops::int8 {
namespace {

TEST(Int8Wide, SplitIsExactOverTheWholeRange) {
  std::vector<int16_t> x;
  for (int32_t v = -kWideMax; v <= kWideMax; ++v) x.push_back(int16_t(v));
  std::vector<int8_t> hi(x.size()), lo(x.size());
  split_wide(x.data(), int64_t(x.size()), hi.data(), lo.data());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(255 * int32_t(hi[i]) + int32_t(lo[i]), x[i]);
    // Both planes must stay in [-127, 127]: the kernels' weight contract (matvec_int8.h).
    ASSERT_LE(std::abs(int32_t(hi[i])), 127) << x[i];
    ASSERT_LE(std::abs(int32_t(lo[i])), 127) << x[i];
  }
}

std::vector<int16_t> random_wide(size_t n, std::mt19937& rng, bool extremes) {
  std::vector<int16_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = extremes ? int16_t(i % 3 ? -kWideMax : kWideMax) : int16_t(int32_t(rng() % (2 * kWideMax + 1)) - kWideMax);
  return v;
}

TEST(Int8Wide, MatvecEqualsInt64ReferenceOnEveryKernel) {
  std::mt19937 rng(11);
  int kernels = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    ++kernels;
    const MatvecFn fn = k->matvec;
    for (bool extremes : {false, true})
      for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {7, 33}, {64, 768}, {5, 4096}})
        for (int wide_w = 0; wide_w < 2; ++wide_w)
          for (int wide_x = 0; wide_x < 2; ++wide_x) {
            std::vector<int16_t> w = random_wide(size_t(rows * cols), rng, extremes);
            std::vector<int16_t> x = random_wide(size_t(cols), rng, extremes);
            if (!wide_w)
              for (auto& v : w) v = int16_t(v / 256);  // int8 range
            if (!wide_x)
              for (auto& v : x) v = int16_t(v / 256);
            std::vector<int8_t> wh(w.size()), wl(w.size()), xh(x.size()), xl(x.size());
            split_wide(w.data(), int64_t(w.size()), wh.data(), wl.data());
            split_wide(x.data(), int64_t(x.size()), xh.data(), xl.data());
            std::vector<int8_t> w_narrow(w.begin(), w.end()), x_narrow(x.begin(), x.end());
            std::vector<int32_t> scratch(static_cast<size_t>(rows));
            std::vector<int64_t> y(static_cast<size_t>(rows));
            matvec_wide(fn, wide_w ? wh.data() : w_narrow.data(), wide_w ? wl.data() : nullptr, rows, cols,
                        wide_x ? xh.data() : x_narrow.data(), wide_x ? xl.data() : nullptr, scratch.data(), y.data());
            for (int64_t r = 0; r < rows; ++r) {
              int64_t ref = 0;
              for (int64_t c = 0; c < cols; ++c) ref += int64_t(w[size_t(r * cols + c)]) * x[size_t(c)];
              ASSERT_EQ(y[size_t(r)], ref)
                  << k->name << " rows=" << rows << " cols=" << cols << " wide_w=" << wide_w << " wide_x=" << wide_x;
            }
          }
  }
  std::printf("kernels tested: %d\n", kernels);
}

#if defined(__SIZEOF_INT128__)
// Exact reference: round(x·M / 2^(31-shift)) half away from zero, saturated to ±(2^31 - 1).
int32_t reference_mbqm64(int64_t x, QuantizedMultiplier m) {
  const bool neg = x < 0;
  unsigned __int128 p = (unsigned __int128)(neg ? -(__int128)x : (__int128)x) * (unsigned __int128)m.multiplier;
  const int r = 31 - m.shift;
  if (r <= 0) return x == 0 ? 0 : (neg ? -INT32_MAX : INT32_MAX);
  p = (p + ((unsigned __int128)1 << (r - 1))) >> r;
  if (p > (unsigned __int128)INT32_MAX) p = INT32_MAX;
  return neg ? -int32_t(p) : int32_t(p);
}

TEST(Int8Wide, MultiplyByQuantizedMultiplier64IsExactRounding) {
  std::mt19937_64 rng(12);
  for (int i = 0; i < 200000; ++i) {
    const int bits = int(rng() % 62) + 1;
    int64_t x = int64_t(rng() % (uint64_t(1) << bits));
    if (rng() % 2) x = -x;
    const QuantizedMultiplier m{int32_t((1u << 30) + uint32_t(rng() % (1u << 30))), int32_t(rng() % 80) - 70};
    ASSERT_EQ(multiply_by_quantized_multiplier_64(x, m), reference_mbqm64(x, m)) << x << " " << m.shift;
  }
  // Ties: x·M / 2^r = k + 1/2 rounds away from zero.
  const QuantizedMultiplier half{1 << 30, 0};  // 0.5
  EXPECT_EQ(multiply_by_quantized_multiplier_64(3, half), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier_64(-3, half), -2);
  EXPECT_EQ(multiply_by_quantized_multiplier_64(int64_t(1) << 40, {1 << 30, 1}), INT32_MAX);
}
#endif

TEST(Int8Wide, Requantize64MatchesTheInt32PathWithinOneLsb) {
  // Below 2^31 both paths compute round(x·m); the int32 path rounds twice (SRDHM, then the shift),
  // the int64 path once, so they may differ by one LSB and no more.
  std::mt19937 rng(13);
  for (int i = 0; i < 100000; ++i) {
    const int32_t x = int32_t(rng());
    const QuantizedMultiplier m{int32_t((1u << 30) + (rng() % (1u << 30))), -int32_t(rng() % 20)};
    const int64_t x64 = x;
    int32_t a = 0;
    requantize64_to_int32(&x64, &m, nullptr, 1, &a);
    ASSERT_LE(std::abs(int64_t(a) - multiply_by_quantized_multiplier(x, m)), 1);
  }
}

// The persistent memory's value sum: every axpy variant equals the portable loop bit for bit (exact
// int32: Σ|a| ≤ 2^23 and |v| ≤ 127 as in int8_forward.cpp; shapes cover the 64-column blocks, the column
// tail and zero weights, which may be skipped).
TEST(Int8Axpy, VariantsBitIdenticalToPortable) {
  std::mt19937 rng(14);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const AxpyFn fn = k->axpy;
    ++tested;
    for (int64_t rows : {1, 5, 40, 896})
      for (int64_t cols : {1, 7, 16, 64, 65, 100, 128}) {
        std::vector<int8_t> v(static_cast<size_t>(rows * cols));
        std::vector<int32_t> a(static_cast<size_t>(rows)), want(static_cast<size_t>(cols));
        for (auto& x : v) x = int8_t(int(rng() % 255) - 127);
        for (auto& x : a) x = rng() % 4 == 0 ? 0 : int32_t(rng() % (1u << 23) / uint32_t(rows)) * (rng() % 2 ? 1 : -1);
        for (auto& x : want) x = int32_t(rng() % (1u << 20)) - (1 << 19);
        std::vector<int32_t> got = want;
        axpy_i8_portable(a.data(), v.data(), rows, cols, want.data());
        fn(a.data(), v.data(), rows, cols, got.data());
        ASSERT_EQ(got, want) << k->name << " rows=" << rows << " cols=" << cols;
      }
  }
  std::printf("axpy variants tested: %d\n", tested);
}

// The attention's value sum: every variant equals the portable int64 loop bit for bit (Q23 weights in
// [0, 2^23], Q15 values at the int16 extremes included; strided rows as in the key/value cache; head widths
// 16 and 24 as the shipped models).
TEST(Int8ValueSum, VariantsBitIdenticalToPortable) {
  std::mt19937 rng(15);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const ValueSumFn fn = k->value_sum;
    ++tested;
    for (int64_t rows : {1, 3, 64, 500})
      for (int64_t cols : {1, 8, 16, 24, 32, 33, 40, 64, 100}) {
        const int64_t stride = cols + 5;
        std::vector<int16_t> v(static_cast<size_t>(rows * stride));
        std::vector<int32_t> p(static_cast<size_t>(rows));
        for (auto& x : v) x = rng() % 7 == 0 ? int16_t(rng() % 2 ? 32767 : -32768) : int16_t(rng());
        for (auto& x : p) x = rng() % 5 == 0 ? 0 : int32_t(rng() % ((1u << 23) + 1));
        std::vector<int64_t> want(static_cast<size_t>(cols));
        for (auto& x : want) x = int64_t(rng()) - (int64_t(1) << 31);
        std::vector<int64_t> got = want;
        value_sum_i16_portable(p.data(), v.data(), rows, stride, cols, want.data());
        fn(p.data(), v.data(), rows, stride, cols, got.data());
        ASSERT_EQ(got, want) << k->name << " rows=" << rows << " cols=" << cols;
      }
  }
  std::printf("value-sum variants tested: %d\n", tested);
}

// q·M_k in one pass: every int8 × int16 variant equals an int64 reference (Q15 queries at ±2^15 included,
// weights ±127; cols up to 511 keep the sum exact in int32).
TEST(Int8MatvecQ16, VariantsEqualInt64Reference) {
  std::mt19937 rng(16);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const MatvecQ16Fn fn = k->matvec_q16;
    ++tested;
    for (int64_t rows : {1, 3, 4, 9, 256})
      for (int64_t cols : {1, 8, 16, 24, 31, 32, 64, 100, 511}) {
        std::vector<int8_t> w(static_cast<size_t>(rows * cols));
        std::vector<int16_t> q(static_cast<size_t>(cols));
        for (auto& x : w) x = rng() % 9 == 0 ? int8_t(rng() % 2 ? 127 : -127) : int8_t(int(rng() % 255) - 127);
        for (auto& x : q) x = rng() % 9 == 0 ? int16_t(rng() % 2 ? 32767 : -32768) : int16_t(rng());
        std::vector<int32_t> y(static_cast<size_t>(rows));
        fn(w.data(), rows, cols, q.data(), y.data());
        for (int64_t r = 0; r < rows; ++r) {
          int64_t ref = 0;
          for (int64_t c = 0; c < cols; ++c) ref += int64_t(w[size_t(r * cols + c)]) * q[size_t(c)];
          ASSERT_EQ(y[size_t(r)], ref) << k->name << " rows=" << rows << " cols=" << cols;
        }
      }
  }
  std::printf("int8 x int16 variants tested: %d\n", tested);
}

// Per-slot requantisation: the SIMD variant equals multiply_by_quantized_multiplier bit for bit over the
// whole int32 range (extremes included), multipliers in [2^30, 2^31) or 0, shifts in [-31, 31].
TEST(Int8RequantizeEach, SimdEqualsScalarFunction) {
  std::mt19937 rng(17);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const RequantizeFn fn = k->requantize_each;
    ++tested;
    for (int round = 0; round < 2000; ++round) {
      const int64_t n = 1 + int64_t(rng() % 40);
      std::vector<int32_t> x(static_cast<size_t>(n)), got(static_cast<size_t>(n));
      std::vector<QuantizedMultiplier> m(static_cast<size_t>(n));
      for (auto& v : x) {
        const uint32_t pick = rng() % 8;
        v = pick == 0 ? INT32_MIN : pick == 1 ? INT32_MAX : pick == 2 ? int32_t(rng() % 2000) - 1000 : int32_t(rng());
      }
      for (auto& q : m) {
        q.multiplier = rng() % 16 == 0 ? 0 : int32_t((1u << 30) + rng() % (1u << 30));
        q.shift = int32_t(rng() % 63) - 31;
        if (rng() % 2) q.shift = int32_t(rng() % 8) - 6;  // the common range
      }
      fn(x.data(), m.data(), n, got.data());
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(got[size_t(i)], multiply_by_quantized_multiplier(x[size_t(i)], m[size_t(i)]))
            << k->name << " x=" << x[size_t(i)] << " M=" << m[size_t(i)].multiplier << " shift=" << m[size_t(i)].shift;
    }
  }
  std::printf("requantize variants tested: %d\n", tested);
}

// One multiplier for all values (attention and memory outputs): every variant equals the portable functions
// (MBQM, then saturation to [-127, 127] / [-32512, 32512]) over extremes and typical values, lengths around
// 16 lanes, shifts inside and outside the SIMD range.
TEST(Int8RequantizeUniform, EveryVariantEqualsPortable) {
  std::mt19937 rng(23);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const RequantizeUniformInt8Fn to_int8 = k->requantize_uniform_int8;
    const RequantizeUniformWideFn to_wide = k->requantize_uniform_wide;
    ++tested;
    for (int round = 0; round < 3000; ++round) {
      const int64_t n = 1 + int64_t(rng() % 70);
      std::vector<int32_t> x(static_cast<size_t>(n));
      for (auto& v : x) {
        const uint32_t pick = rng() % 8;
        v = pick == 0   ? INT32_MIN
            : pick == 1 ? INT32_MAX
            : pick == 2 ? int32_t(rng() % 200000) - 100000
                        : int32_t(rng());
      }
      QuantizedMultiplier m{rng() % 16 == 0 ? 0 : int32_t((1u << 30) + rng() % (1u << 30)), int32_t(rng() % 25) - 20};
      if (round % 50 == 0) m.shift = rng() % 2 ? 35 : -40;  // outside [-31, 31]: the scalar path
      std::vector<int8_t> got8(static_cast<size_t>(n)), want8(static_cast<size_t>(n));
      std::vector<int16_t> got16(static_cast<size_t>(n)), want16(static_cast<size_t>(n));
      to_int8(x.data(), m, n, got8.data());
      requantize_uniform_to_int8(x.data(), m, n, want8.data());
      to_wide(x.data(), m, n, got16.data());
      requantize_uniform_to_wide(x.data(), m, n, want16.data());
      ASSERT_EQ(got8, want8) << k->name << " n=" << n << " round=" << round;
      ASSERT_EQ(got16, want16) << k->name << " n=" << n << " round=" << round;
    }
  }
  std::printf("uniform requantize variants tested: %d\n", tested);
  EXPECT_GE(tested, 1);
}

}  // namespace
}  // namespace tessera::ops::int8
