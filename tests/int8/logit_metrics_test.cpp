// `tessera compare`'s metrics against direct float64 evaluations of their definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "quant/logit_metrics.h"

namespace tessera {
namespace {

// KL(p || q) straight from the definition: p_i = e^{a_i} / Σ e^{a_j} in long double, no shift
// (the test logits are small enough not to overflow).
double kl_by_definition(const std::vector<float>& a, const std::vector<float>& b) {
  long double za = 0, zb = 0;
  for (float x : a) za += std::exp((long double)x);
  for (float x : b) zb += std::exp((long double)x);
  long double kl = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const long double p = std::exp((long double)a[i]) / za, q = std::exp((long double)b[i]) / zb;
    kl += p * std::log(p / q);
  }
  return double(kl);
}

std::vector<float> random_logits(std::mt19937_64& rng, size_t n, double spread) {
  std::normal_distribution<double> nd(0.0, spread);
  std::vector<float> v(n);
  for (float& x : v) x = float(nd(rng));
  return v;
}

TEST(LogitMetrics, KlOfARowWithItselfIsZero) {
  std::mt19937_64 rng(1);
  const std::vector<float> a = random_logits(rng, 263, 3.0);
  EXPECT_EQ(quant::kl_divergence(a.data(), a.data(), 263), 0.0);
  // Shift invariance: softmax(a + 5) = softmax(a); only rounding of a + 5 in float remains.
  std::vector<float> shifted = a;
  for (float& x : shifted) x += 5.0f;
  EXPECT_LT(quant::kl_divergence(a.data(), shifted.data(), 263), 1e-12);
}

TEST(LogitMetrics, KlMatchesTheDefinitionInFloat64) {
  std::mt19937_64 rng(2);
  for (int trial = 0; trial < 20; ++trial) {
    const std::vector<float> a = random_logits(rng, 500, 2.0);
    std::vector<float> b = a;
    const std::vector<float> noise = random_logits(rng, 500, 0.05 * (trial + 1));
    for (size_t i = 0; i < b.size(); ++i) b[i] += noise[i];
    const double want = kl_by_definition(a, b);
    ASSERT_GT(want, 0.0);
    // Double accumulation over 500 terms: relative error ~1e-13; 1e-9 leaves room for the shift.
    EXPECT_NEAR(quant::kl_divergence(a.data(), b.data(), 500), want, 1e-9 * want + 1e-15) << "trial " << trial;
  }
}

TEST(LogitMetrics, ComparerReportsAgreementPercentileAndPerplexity) {
  std::mt19937_64 rng(3);
  const int64_t V = 40;
  quant::LogitComparer same, cmp;
  std::vector<double> kls;
  int64_t agree = 0;
  double nll = 0;
  std::vector<float> uniform(V, 0.25f);
  for (int t = 0; t < 200; ++t) {
    const std::vector<float> a = random_logits(rng, V, 2.0);
    std::vector<float> b = a;
    const std::vector<float> noise = random_logits(rng, V, 0.01 * (t % 37));
    for (int64_t i = 0; i < V; ++i) b[size_t(i)] += noise[size_t(i)];
    same.add(a.data(), a.data(), V, t % int(V));
    cmp.add(a.data(), b.data(), V, -1);
    kls.push_back(kl_by_definition(a, b));
    agree += std::max_element(a.begin(), a.end()) == a.begin() + (std::max_element(b.begin(), b.end()) - b.begin());
    long double z = 0;
    for (float x : a) z += std::exp((long double)x);
    nll += double(std::log(z) - (long double)a[size_t(t % int(V))]);
  }
  const quant::LogitComparison s = same.result();
  EXPECT_EQ(s.positions, 200);
  EXPECT_EQ(s.agree, 200);
  EXPECT_EQ(s.kl_mean, 0.0);
  EXPECT_EQ(s.kl_p99, 0.0);
  EXPECT_EQ(s.scored, 200);
  EXPECT_NEAR(s.base_perplexity, std::exp(nll / 200), 1e-9 * s.base_perplexity);
  EXPECT_EQ(s.base_perplexity, s.quant_perplexity);

  const quant::LogitComparison c = cmp.result();
  std::sort(kls.begin(), kls.end());
  double mean = 0;
  for (double k : kls) mean += k / 200;
  EXPECT_EQ(c.agree, agree);
  EXPECT_LT(c.agree, 200);  // the larger noise levels do flip some top-1 tokens
  EXPECT_NEAR(c.kl_mean, mean, 1e-9 * mean);
  EXPECT_NEAR(c.kl_p99, kls[197], 1e-9 * kls[197]);  // nearest rank: ceil(0.99 · 200) = 198th
  EXPECT_NEAR(c.kl_max, kls[199], 1e-9 * kls[199]);
  EXPECT_EQ(c.scored, 0);
}

TEST(LogitMetrics, UniformLogitsHavePerplexityOfTheVocabulary) {
  quant::LogitComparer cmp;
  const std::vector<float> flat(263, 1.5f);
  for (int t = 0; t < 10; ++t) cmp.add(flat.data(), flat.data(), 263, t);
  EXPECT_NEAR(cmp.result().base_perplexity, 263.0, 1e-9);
}

}  // namespace
}  // namespace tessera
