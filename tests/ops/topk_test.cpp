// ops/topk.cpp: top-K softmax and uniform top-K against a stable-sort float64 reference.
#include "ops/topk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "support/attention_oracle.h"
#include "row_generators.h"

namespace tessera::testing_rows {
namespace {

std::vector<float> run(bool softmax, int k, const std::vector<float>& s, const std::vector<uint8_t>& mask = {}) {
  std::vector<float> p(s.size(), -1.0f), scratch(s.size());
  const uint8_t* m = mask.empty() ? nullptr : mask.data();
  if (softmax) ops::topk_softmax_row(k, s.data(), p.data(), s.size(), m, scratch.data());
  else ops::topk_uniform_row(k, s.data(), p.data(), s.size(), m, scratch.data());
  return p;
}

// Reference: stable sort (ties to the lowest index), softmax in double over the selection.
std::vector<double> reference(bool softmax, int k, const std::vector<float>& s, const std::vector<uint8_t>& mask) {
  std::vector<size_t> idx = oracle::top_k_indices(k, s, mask);
  std::vector<double> p(s.size(), 0.0);
  if (idx.empty()) return p;
  double m = s[idx[0]], total = 0;
  for (size_t i : idx) total += p[i] = softmax ? std::exp(s[i] - m) : 1.0;
  for (double& v : p) v /= total;
  return p;
}

TEST(TopK, RandomRowsMatchReference) {
  std::mt19937_64 rng(9);
  for (bool softmax : {true, false})
    for (int k : {1, 2, 4, 16, 100})
      for (size_t n : {1, 3, 4, 50, 1000, 65536}) {
        std::vector<float> s = random_row(Dist::kBetaCos, n, rng);
        std::vector<uint8_t> mask(n, 1);
        for (size_t i = 0; i < n; i += 4) mask[i] = 0;
        if (n > 2) s[n / 2] = s[n / 3];  // a tie somewhere
        std::vector<float> p = run(softmax, k, s, mask);
        std::vector<double> o = reference(softmax, k, s, mask);
        for (size_t i = 0; i < n; ++i)  // 1e-6 relative: float exp + normalisation
          ASSERT_NEAR(p[i], o[i], 1e-6 * o[i] + 1e-12) << "k=" << k << " n=" << n << " i=" << i;
      }
}

TEST(TopK, TiesGoToLowestIndices) {
  std::vector<float> s = {1.0f, 3.0f, 2.0f, 3.0f, 2.0f, 2.0f, 0.0f};
  std::vector<float> p = run(false, 3, s);  // 3, 3 and the first 2 (index 2)
  EXPECT_EQ(p, (std::vector<float>{0, 1.0f / 3, 1.0f / 3, 1.0f / 3, 0, 0, 0}));
  p = run(true, 2, {5.0f, 5.0f, 5.0f});
  EXPECT_EQ(p, (std::vector<float>{0.5f, 0.5f, 0.0f}));
}

TEST(TopK, FewerUsableKeysThanK) {
  std::vector<float> p = run(false, 4, {1.0f, 2.0f, 3.0f}, {1, 0, 1});
  EXPECT_EQ(p, (std::vector<float>{0.5f, 0.0f, 0.5f}));
  p = run(true, 4, {1.0f, 2.0f}, {0, 0});
  EXPECT_EQ(p, (std::vector<float>{0.0f, 0.0f}));
  const float inf = std::numeric_limits<float>::infinity();
  p = run(true, 2, {inf, 1.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f});
  EXPECT_EQ(p, (std::vector<float>{1.0f, 0.0f, 0.0f, 0.0f}));
  p = run(true, 2, {-inf, -inf, -inf});
  EXPECT_EQ(p, (std::vector<float>{0.5f, 0.5f, 0.0f}));
}

}  // namespace
}  // namespace tessera::testing_rows
