// Integer exp (table + interpolation) and fixed-point softmax against float64.
#include "ops/int8/softmax_fixed.h"

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

}  // namespace
}  // namespace tessera::ops::int8
