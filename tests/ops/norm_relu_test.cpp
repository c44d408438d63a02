// ops/norm_relu.cpp against a float64 reference of the seed's relu(scale·s + bias)/max(Σ, 1e-6).
#include "ops/norm_relu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "support/attention_oracle.h"
#include "row_generators.h"

namespace tessera::testing_rows {
namespace {

std::vector<float> run(const std::vector<float>& s, const std::vector<uint8_t>& mask, float scale, float bias) {
  std::vector<float> p(s.size(), -1.0f);
  ops::norm_relu_row(s.data(), p.data(), s.size(), mask.empty() ? nullptr : mask.data(), scale, bias);
  return p;
}

TEST(NormRelu, RandomRowsMatchReference) {
  std::mt19937_64 rng(4);
  // Both seed forms: regular relu(2β²s + 1 - 2β²) (s = β²cos), EFT relu(cos).
  for (size_t n : {1, 5, 64, 1000, 65536})
    for (float beta2 : {2.0f, 8.0f, 30.0f}) {
      std::vector<float> s = beta_cos_row(n, beta2, rng);
      std::vector<uint8_t> mask(n, 1);
      for (size_t i = 2; i < n; i += 5) mask[i] = 0;
      for (int form = 0; form < 2; ++form) {
        float scale = form == 0 ? 2 * beta2 : 1.0f / beta2, bias = form == 0 ? 1 - 2 * beta2 : 0.0f;
        std::vector<float> p = run(s, mask, scale, bias);
        std::vector<double> w(n, 0.0);
        double total = 0;
        size_t usable = 0;
        for (size_t i = 0; i < n; ++i)
          if (mask[i]) {
            total += w[i] = std::max(0.0, static_cast<double>(scale) * s[i] + bias);
            ++usable;
          }
        for (size_t i = 0; i < n; ++i) {
          double want = total == 0 ? (mask[i] ? 1.0 / usable : 0.0) : w[i] / std::max(total, 1e-6);
          // 1e-5 relative: scale·s + bias loses up to ~1e-7·|scale·s| to cancellation in float.
          ASSERT_NEAR(p[i], want, 1e-5 * want + 1e-7) << "n=" << n << " form=" << form;
        }
      }
    }
}

TEST(NormRelu, SeedClampAndFallbacks) {
  // Σw = 0: uniform over usable keys.
  std::vector<float> p = run({-1.0f, -2.0f, -3.0f}, {1, 0, 1}, 1.0f, 0.0f);
  EXPECT_EQ(p[0], 0.5f);
  EXPECT_EQ(p[1], 0.0f);
  EXPECT_EQ(p[2], 0.5f);
  // 0 < Σw < 1e-6: divided by 1e-6 (the authors' clamp): Σp = Σw/1e-6.
  p = run({2e-7f, 3e-7f}, {}, 1.0f, 0.0f);
  EXPECT_NEAR(p[0], 0.2, 1e-6);
  EXPECT_NEAR(p[1], 0.3, 1e-6);
  // +inf weight: uniform on it; NaN weighs 0.
  const float inf = std::numeric_limits<float>::infinity();
  p = run({inf, 1.0f, std::numeric_limits<float>::quiet_NaN()}, {}, 1.0f, 0.0f);
  EXPECT_EQ(p[0], 1.0f);
  EXPECT_EQ(p[1], 0.0f);
  EXPECT_EQ(p[2], 0.0f);
}

}  // namespace
}  // namespace tessera::testing_rows
