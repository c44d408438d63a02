// Integer exp (table + interpolation) and fixed-point softmax against float64.
#include "ops/int8/softmax_fixed.h"

#include "host_kernel_tables.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace tessera::ops::int8 {
namespace {

TEST(Int8ExpFixed, RelativeErrorBelow2PowMinus19PlusOneLsb) {
  for (int frac_bits : {10, 16, 26}) {
    for (int64_t k = 0; k < 200000; ++k) {
      const int64_t x = -k * ((int64_t(40) << frac_bits) / 200000);
      const double ref = std::ldexp(std::exp(std::ldexp(double(x), -frac_bits)), 30);
      const double got = exp_neg_q30(x, frac_bits);
      // Interpolation error of 2^(-f) between table points ≤ (ln2/256)²/8 < 2^-20 relative; input
      // truncation to Q30 and the final rounding add ≤ 1.5 LSB of Q30.
      ASSERT_LE(std::fabs(got - ref), ref * std::ldexp(1.0, -20) + 1.5) << "x=" << x << " fb=" << frac_bits;
    }
  }
  EXPECT_EQ(exp_neg_q30(0, 16), 1 << 30);
  EXPECT_EQ(exp_neg_q30(5, 16), 1 << 30);
  EXPECT_EQ(exp_neg_q30(-(int64_t(100) << 16), 16), 0);
}

TEST(Int8SoftmaxFixed, MatchesFloat64) {
  std::mt19937 rng(21);
  std::normal_distribution<double> nd(0.0, 1.0);
  for (int64_t n : {1, 2, 40, 2688}) {
    for (double spread : {0.01, 1.0, 10.0}) {
      const int fb = 16;
      std::vector<int32_t> s(static_cast<size_t>(n)), p(static_cast<size_t>(n));
      for (auto& v : s) v = int32_t(std::llround(nd(rng) * spread * 65536));
      softmax_fixed_q23(s.data(), n, fb, p.data());
      double m = -1e300, z = 0;
      for (auto v : s) m = std::max(m, v / 65536.0);
      for (auto v : s) z += std::exp(v / 65536.0 - m);
      int64_t total = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double ref = std::exp(s[size_t(i)] / 65536.0 - m) / z * (1 << 23);
        // exp errs ≤ 2^-20 relative + 1.5 Q30 LSB per term (the sum shares it); the reciprocal
        // truncation and the final rounding add ≤ 1 Q23 LSB.
        ASSERT_LE(std::fabs(p[size_t(i)] - ref), ref * std::ldexp(1.0, -18) + 1.0) << n << " " << spread;
        total += p[size_t(i)];
      }
      EXPECT_LE(std::llabs(total - (int64_t(1) << 23)), n);  // Σp = 1 up to one LSB per entry
    }
  }
}

// Every softmax variant this machine can run gives the portable kernel's bits: lengths around the SIMD
// width (tails), peaked rows (one slot holds all the mass: the 2^32 reciprocal), differences beyond the
// exp's cut-offs (x < -64, 2^-31), the whole int32 score range and other frac_bits.
TEST(Int8SoftmaxFixed, SimdVariantsBitIdenticalToPortable) {
  std::mt19937 rng(23);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const SoftmaxQ23Fn fn = k->softmax_q23;
    ++tested;
    for (int round = 0; round < 3000; ++round) {
      const int64_t n = 1 + int64_t(rng() % (round % 3 == 0 ? 300 : 40));
      const int fb = round % 5 == 0 ? int(rng() % 27) : 16;
      const uint32_t spread = round % 7 == 0 ? 0xFFFFFFFFu : (1u << (rng() % 26));
      std::vector<int32_t> s(static_cast<size_t>(n)), ref(static_cast<size_t>(n)), got(static_cast<size_t>(n));
      for (auto& v : s) {
        v = spread == 0xFFFFFFFFu ? int32_t(rng()) : int32_t(rng() % spread) - int32_t(spread / 2);
        if (rng() % 16 == 0) v = rng() % 2 ? INT32_MIN : INT32_MAX;
      }
      softmax_fixed_q23(s.data(), n, fb, ref.data());
      fn(s.data(), n, fb, got.data());
      ASSERT_EQ(got, ref) << k->name << " n=" << n << " fb=" << fb << " round=" << round;
    }
  }
  std::printf("softmax variants tested: %d\n", tested);
}

}  // namespace
}  // namespace tessera::ops::int8
