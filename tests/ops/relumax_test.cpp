// ops/relumax.cpp against a float64 reference of p ∝ relu(scale·(s - max s) + bias).
#include "ops/relumax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "support/attention_oracle.h"
#include "row_generators.h"

namespace tessera::testing_rows {
namespace {

std::vector<double> reference(const std::vector<float>& s, const std::vector<uint8_t>& mask, double scale,
                              double bias) {
  double m = -1e300;
  for (size_t i = 0; i < s.size(); ++i)
    if (oracle::usable(mask, i, s[i])) m = std::max(m, static_cast<double>(s[i]));
  std::vector<double> w(s.size(), 0.0);
  double total = 0.0;
  for (size_t i = 0; i < s.size(); ++i)
    if (oracle::usable(mask, i, s[i])) total += w[i] = std::max(0.0, scale * (s[i] - m) + bias);
  for (double& v : w) v /= total;
  return w;
}

std::vector<float> run(const std::vector<float>& s, const std::vector<uint8_t>& mask, float scale, float bias) {
  std::vector<float> p(s.size(), -1.0f);
  ops::relumax_row(s.data(), p.data(), s.size(), mask.empty() ? nullptr : mask.data(), scale, bias);
  return p;
}

TEST(Relumax, RandomRowsMatchReference) {
  std::mt19937_64 rng(3);
  // Tolerance 1e-6 relative + 1e-9: float weights (≤ 2 roundings) and a float normalisation.
  for (Dist d : {Dist::kGaussian, Dist::kUniform, Dist::kBetaCos})
    for (size_t n : {1, 3, 64, 1000, 65536})
      for (float scale : {1.0f, 8.0f, 60.0f}) {
        std::vector<float> s = random_row(d, n, rng);
        std::vector<uint8_t> mask(n, 1);
        for (size_t i = 1; i < n; i += 3) mask[i] = 0;
        std::vector<float> p = run(s, mask, scale, 1.0f);
        std::vector<double> o = reference(s, mask, scale, 1.0);
        double total = 0;
        for (size_t i = 0; i < n; ++i) {
          ASSERT_NEAR(p[i], o[i], 1e-6 * o[i] + 1e-9) << dist_name(d) << " n=" << n;
          total += p[i];
        }
        ASSERT_NEAR(total, 1.0, 1e-6);
      }
}

TEST(Relumax, ArgmaxAlwaysWeighsBias) {
  std::vector<float> p = run({0.0f, -5.0f, 2.0f, 1.5f}, {}, 1.0f, 1.0f);
  // weights: relu(-2+1)=0, 0, 1, relu(-0.5+1)=0.5 -> 0, 0, 2/3, 1/3
  EXPECT_FLOAT_EQ(p[2], 2.0f / 3.0f);
  EXPECT_FLOAT_EQ(p[3], 1.0f / 3.0f);
  EXPECT_EQ(p[0], 0.0f);
}

TEST(Relumax, DegenerateRows) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> p = run({1.0f, 3.0f, 3.0f}, {}, 1.0f, 0.0f);  // bias 0: uniform on the argmax
  EXPECT_EQ(p[1], 0.5f);
  EXPECT_EQ(p[2], 0.5f);
  p = run({1.0f, inf, nan}, {}, 1.0f, 1.0f);
  EXPECT_EQ(p[1], 1.0f);
  EXPECT_EQ(p[2], 0.0f);
  p = run({1.0f, 2.0f}, {0, 0}, 1.0f, 1.0f);
  EXPECT_EQ(p[0] + p[1], 0.0f);
}

}  // namespace
}  // namespace tessera::testing_rows
