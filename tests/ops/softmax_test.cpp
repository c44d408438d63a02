// ops/softmax.cpp against the float64 oracle.
#include "ops/softmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "support/attention_oracle.h"
#include "row_generators.h"

namespace tessera::testing_rows {
namespace {

std::vector<float> run(const std::vector<float>& s, const std::vector<uint8_t>& mask = {}) {
  std::vector<float> p(s.size(), -1.0f);
  ops::softmax_row(s.data(), p.data(), s.size(), mask.empty() ? nullptr : mask.data());
  return p;
}

// Tolerance per entry, relative: exp_nonpositive < 3e-7, float normalisation ~1e-7, and the float
// difference d = s - max is rounded by up to 2^-24·|d|, which exp turns into a relative error
// 2^-24·|d| (intrinsic to float inputs); the normalisation spreads the p-weighted mean of those
// errors over every entry: 1e-6 + 2^-23·(|d_i| + Σ_j p_j|d_j|). Σp within 1e-6 of 1 (the required bound).
void expect_matches(const std::vector<float>& s, const std::vector<uint8_t>& mask, const char* what) {
  std::vector<float> p = run(s, mask);
  std::vector<double> o = oracle::softmax(s, mask);
  double m = -1e300;
  for (size_t i = 0; i < s.size(); ++i)
    if (oracle::usable(mask, i, s[i])) m = std::max(m, static_cast<double>(s[i]));
  double mean_d = 0.0;
  for (size_t i = 0; i < s.size(); ++i)
    if (o[i] > 0) mean_d += o[i] * (m - s[i]);
  double total = 0.0;
  for (size_t i = 0; i < s.size(); ++i) {
    double d = std::isfinite(s[i]) ? std::fabs(s[i] - m) : 0.0;
    double rel = 1e-6 + std::ldexp(d + mean_d, -23);
    ASSERT_NEAR(p[i], o[i], rel * o[i] + 1e-30) << what << " i=" << i << " n=" << s.size();
    total += p[i];
  }
  ASSERT_NEAR(total, 1.0, 1e-6) << what;
}

TEST(Softmax, RandomRowsMatchOracle) {
  std::mt19937_64 rng(11);
  for (Dist d : {Dist::kGaussian, Dist::kUniform, Dist::kHeavyTailed, Dist::kBetaCos})
    for (size_t n : {1, 2, 7, 64, 1000, 4096, 65536}) {
      std::vector<float> s = random_row(d, n, rng);
      std::vector<uint8_t> mask(n);
      std::bernoulli_distribution keep(0.8);
      for (auto& m : mask) m = keep(rng);
      mask[0] = 1;
      expect_matches(s, {}, dist_name(d));
      expect_matches(s, mask, dist_name(d));
    }
}

TEST(Softmax, ExpAccuracyOverTheWholeRange) {
  // Two-key rows {0, -d}: p[1] = e^-d/(1 + e^-d) probes exp_nonpositive at every scale down to the
  // flush point (-87.3, where results would be denormal: documented flush to 0).
  for (float d = 0.0f; d < 87.0f; d += 0.37f) expect_matches({0.0f, -d}, {}, "exp sweep");
  std::vector<float> p = run({0.0f, -100.0f});
  EXPECT_EQ(p[0], 1.0f);
  EXPECT_EQ(p[1], 0.0f);
}

TEST(Softmax, AdversarialRows) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  expect_matches(std::vector<float>(1000, 3.0f), {}, "all equal");
  expect_matches({1e30f, -1e30f, 1e30f}, {}, "1e30");
  expect_matches({1e-30f, 1e-40f, -1e-45f}, {}, "tiny and denormal");
  expect_matches({5.0f, 1.0f, 2.0f}, {0, 1, 0}, "all masked but one");
  std::vector<float> p = run({1.0f, 2.0f}, {0, 0});
  EXPECT_EQ(p[0] + p[1], 0.0f);  // all masked: zeros
  p = run({1.0f, inf, nan, inf});
  EXPECT_EQ(p[1], 0.5f);
  EXPECT_EQ(p[3], 0.5f);
  EXPECT_EQ(p[2], 0.0f);
  expect_matches({1.0f, nan, -inf, 0.5f}, {}, "NaN and -inf weigh 0");
  p = run({nan, -inf});
  EXPECT_EQ(p[0] + p[1], 0.0f);  // nothing usable and finite: zeros
}

}  // namespace
}  // namespace tessera::testing_rows
