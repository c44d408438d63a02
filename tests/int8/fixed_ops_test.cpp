// Fixed-point LayerNorm, leaky average, per-head L2 norm and requantisation against float64
// oracles written here. Tolerances are in output LSBs and derived in each test.
#include <gtest/gtest.h>

#include <cstdio>

#include <cmath>
#include <random>
#include <vector>

#include "ops/int8/fixed_point.h"
#include "ops/int8/l2norm_fixed.h"
#include "ops/int8/layernorm_fixed.h"
#include "ops/int8/leaky_average_fixed.h"
#include "host_kernel_tables.h"
#include "ops/int8/requantize.h"

namespace tessera::ops::int8 {
namespace {

// The quantizer's conversion real multiplier → (M, shift) (written independently here).
QuantizedMultiplier to_multiplier(double m) {
  int e = 0;
  const double f = std::frexp(m, &e);  // m = f·2^e, f ∈ [0.5, 1)
  int64_t q = std::llround(f * 2147483648.0);
  if (q == (int64_t(1) << 31)) {
    q /= 2;
    ++e;
  }
  return {int32_t(q), e};
}

TEST(Int8LayerNormFixed, MatchesFloat64WithinOneLsb) {
  std::mt19937 rng(11);
  std::normal_distribution<double> nd(0.0, 1.0);
  for (int64_t n : {8, 32, 768}) {
    for (double spread : {1e-3, 1.0, 50.0}) {
      const double s_x = 1.0 / (1 << 20);  // residual scale
      const double eps = 1e-5, s_out = 4.0 / 127;
      std::vector<int32_t> x(static_cast<size_t>(n));
      for (auto& v : x) v = int32_t(std::llround((nd(rng) * spread + 0.3 * spread) / s_x));
      std::vector<int8_t> q(static_cast<size_t>(n));
      layernorm_fixed(x.data(), n, uint64_t(std::llround(eps / (s_x * s_x))), to_multiplier(1.0 / s_out), q.data());
      double mean = 0, var = 0;
      for (auto v : x) mean += v * s_x;
      mean /= double(n);
      for (auto v : x) var += (v * s_x - mean) * (v * s_x - mean);
      var /= double(n);
      for (int64_t i = 0; i < n; ++i) {
        const double ref = std::clamp((x[size_t(i)] * s_x - mean) / std::sqrt(var + eps) / s_out, -127.0, 127.0);
        // Integer mean rounding and a ≤ 2^-29 relative rsqrt error shift the pre-rounding value by
        // far less than 0.5 LSB; the final rounding adds ≤ 0.5: |Δ| ≤ 1 LSB allows a tie flip.
        ASSERT_LE(std::fabs(q[size_t(i)] - ref), 0.5 + 1e-3) << "n=" << n << " spread=" << spread << " i=" << i;
      }
    }
  }
}

// Every variant of the per-head mix gives the portable loop's bits: Q31 leaky-average coefficients and Q24
// value-mix coefficients with c outside [0, 1] (negative products), extreme inputs (saturation), head sizes
// around the 8-lane vectors, in place.
TEST(Int8MixHeadsFixed, EveryVariantEqualsPortable) {
  std::mt19937 rng(31);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const MixHeadsFn fn = k->mix_heads;
    ++tested;
    for (int round = 0; round < 2000; ++round) {
      const int64_t H = 1 + int64_t(rng() % 5), d = 1 + int64_t(rng() % 40);
      const bool q31 = round % 2 == 0;
      std::vector<int32_t> a(static_cast<size_t>(H)), b(static_cast<size_t>(H));
      for (int64_t h = 0; h < H; ++h) {
        if (q31) {
          a[size_t(h)] = int32_t(rng() % 2147483647u);
          b[size_t(h)] = 2147483647 - a[size_t(h)];
        } else {  // c ∈ [-100, 100] in Q24
          a[size_t(h)] = int32_t(int64_t(rng() % 3355443201u) - 1677721600);
          b[size_t(h)] = (int32_t(1) << 24) - a[size_t(h)];
        }
      }
      std::vector<int32_t> x(static_cast<size_t>(H * d)), y(x.size());
      for (auto* v : {&x, &y})
        for (auto& e : *v) {
          const uint32_t pick = rng() % 6;
          e = pick == 0 ? INT32_MAX : pick == 1 ? INT32_MIN : pick == 2 ? int32_t(rng() % 2001) - 1000 : int32_t(rng());
        }
      const int bits = q31 ? 31 : 24;
      std::vector<int32_t> want(x.size()), got(x.size()), in_place = x;
      mix_heads_fixed(x.data(), y.data(), a.data(), b.data(), bits, H, d, want.data());
      fn(x.data(), y.data(), a.data(), b.data(), bits, H, d, got.data());
      ASSERT_EQ(got, want) << k->name << " round=" << round;
      fn(in_place.data(), y.data(), a.data(), b.data(), bits, H, d, in_place.data());
      ASSERT_EQ(in_place, want) << k->name << " in place, round=" << round;
    }
  }
  std::printf("mix_heads variants tested: %d\n", tested);
  EXPECT_GE(tested, 1);
}

TEST(Int8LeakyAverageFixed, TracksFloat64RecurrenceWithinTwoLsb) {
  const int64_t H = 3, d = 4, T = 200;
  const double a[H] = {std::exp(-0.1), std::exp(-1.0), std::exp(-6.0)};
  std::vector<int32_t> decay(H), keep(H);
  for (int h = 0; h < H; ++h) {
    decay[size_t(h)] = int32_t(std::llround(a[h] * 2147483648.0));
    keep[size_t(h)] = int32_t(std::llround((1 - a[h]) * 2147483648.0));
  }
  std::mt19937 rng(12);
  std::vector<int32_t> state(H * d, 0), u(H * d);
  std::vector<double> ref(H * d, 0.0);
  for (int t = 0; t < T; ++t) {
    for (auto& v : u) v = int32_t(rng() % 2000001) - 1000000;
    leaky_average_fixed(state.data(), u.data(), decay.data(), keep.data(), H, d);
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < d; ++i) {
        double& r = ref[size_t(h * d + i)];
        r = a[h] * r + (1 - a[h]) * u[size_t(h * d + i)];
        // Each step rounds once (≤ 0.5) and the Q31 coefficients err by ≤ 2^-32·|x| ≤ 2^-12;
        // the rounding errors decay geometrically: accumulated ≤ 0.5/(1-a) + tiny. For a = e^-0.1
        // that is ≤ 5.3 LSB; we check the exact per-head bound.
        ASSERT_LE(std::fabs(state[size_t(h * d + i)] - r), 0.5 / (1 - a[h]) + 0.01) << t << " " << h;
      }
  }
}

TEST(Int8L2NormFixed, UnitVectorsInQ15WithinOneLsb) {
  std::mt19937 rng(13);
  for (int64_t d : {1, 8, 64, 128}) {
    for (int64_t magnitude : {int64_t(3), int64_t(1) << 20, int64_t(2000000000)}) {
      const int64_t H = 2;
      std::vector<int32_t> v(size_t(H * d));
      for (auto& x : v) x = int32_t(int64_t(rng() % 2001) * magnitude / 1000 - magnitude);
      std::vector<int16_t> out(size_t(H * d));
      l2norm_fixed_q15(v.data(), H, d, out.data());
      for (int64_t h = 0; h < H; ++h) {
        double norm = 0;
        for (int64_t i = 0; i < d; ++i) norm += double(v[size_t(h * d + i)]) * v[size_t(h * d + i)];
        norm = std::sqrt(norm);
        for (int64_t i = 0; i < d; ++i) {
          const double ref = norm == 0 ? 0 : std::min(32767.0, 32768.0 * v[size_t(h * d + i)] / norm);
          // Rounding 0.5 LSB + headroom pre-shift (≤ 2^-24 relative) + rsqrt (≤ 2^-29): ≤ 1 LSB.
          ASSERT_LE(std::fabs(out[size_t(h * d + i)] - ref), 1.0) << d << " " << magnitude;
        }
      }
    }
  }
  std::vector<int32_t> zero(8, 0);
  std::vector<int16_t> out(8, 7);
  l2norm_fixed_q15(zero.data(), 1, 8, out.data());
  for (auto x : out) EXPECT_EQ(x, 0);
}

TEST(Int8Requantize, PerRowMultipliersBiasAndResidualAdd) {
  const std::vector<int32_t> acc = {1000, -1000, 123456, -7};
  const std::vector<int32_t> bias = {24, 0, -456, 7};
  const std::vector<QuantizedMultiplier> m = {to_multiplier(0.01), to_multiplier(0.5), to_multiplier(1e-3),
                                              to_multiplier(3.0)};
  std::vector<int8_t> q(4);
  requantize_to_int8(acc.data(), m.data(), bias.data(), 4, q.data());
  EXPECT_EQ(q[0], 10);    // 1024·0.01 = 10.24
  EXPECT_EQ(q[1], -127);  // -500 saturates
  EXPECT_EQ(q[2], 123);   // 123000·1e-3
  EXPECT_EQ(q[3], 0);     // (-7 + 7)·3
  std::vector<int32_t> residual = {5, 5, 5, INT32_MAX - 1};
  requantize_add_to_int32(acc.data(), m.data(), nullptr, 4, residual.data());
  EXPECT_EQ(residual[0], 15);
  EXPECT_EQ(residual[1], -495);
  EXPECT_EQ(residual[2], 128);
  EXPECT_EQ(residual[3], INT32_MAX - 22);  // -7·3 = -21 → no saturation
  std::vector<int32_t> big = {INT32_MAX};
  std::vector<QuantizedMultiplier> two = {to_multiplier(2.0)};
  requantize_add_to_int32(big.data(), two.data(), nullptr, 1, big.data());
  EXPECT_EQ(big[0], INT32_MAX);  // saturates, never wraps
}

}  // namespace
}  // namespace tessera::ops::int8
