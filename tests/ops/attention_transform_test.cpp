// ops/attention_transform.cpp: the dispatch routes every AttentionKind to its transform with the
// right parameters, within attention_scratch_floats, and honours the mask contract.
#include "ops/attention_transform.h"

#include <gtest/gtest.h>

#include <random>

#include "support/attention_oracle.h"
#include "row_generators.h"

namespace tessera::testing_rows {
namespace {

std::vector<float> dispatch(const ops::RowTransform& t, const std::vector<float>& s, const std::vector<uint8_t>& mask) {
  size_t need = ops::attention_scratch_floats(t.method, s.size());
  std::vector<float> scratch(need + 1, 0.0f), p(s.size(), -1.0f);
  scratch[need] = 12345.0f;  // canary just past the promised scratch size
  ops::attention_transform(t, s.data(), p.data(), s.size(), mask.data(), scratch.data());
  EXPECT_EQ(scratch[need], 12345.0f) << t.method.name() << " wrote past its scratch";
  return p;
}

TEST(AttentionTransform, EveryKindMatchesItsOracle) {
  std::mt19937_64 rng(21);
  std::vector<float> s = random_row(Dist::kBetaCos, 300, rng);
  std::vector<uint8_t> mask(300, 1);
  for (size_t i = 0; i < 300; i += 7) mask[i] = 0;
  // Tolerances: 2e-6·r as in entmax_family_checks.h; softmax/top-K 1e-6 relative.
  for (const char* name : {"sparsemax", "entmax15", "entmax43", "entmax:1.25", "entmax:3"}) {
    ops::RowTransform t{AttentionMethod::parse(name).value()};
    std::vector<float> p = dispatch(t, s, mask);
    oracle::EntmaxResult o = oracle::entmax(t.method.entmax_alpha(), s, mask);
    for (size_t i = 0; i < s.size(); ++i)
      ASSERT_NEAR(p[i], o.p[i], 2e-6 / (t.method.entmax_alpha() - 1.0)) << name << " i=" << i;
  }
  {
    ops::RowTransform t{AttentionMethod::parse("softmax").value()};
    std::vector<float> p = dispatch(t, s, mask);
    std::vector<double> o = oracle::softmax(s, mask);
    // |s| ≤ 60 here: relative 1e-6 + 2^-23·|s - max| (see softmax_test.cpp) ≤ 1.6e-5.
    for (size_t i = 0; i < s.size(); ++i) ASSERT_NEAR(p[i], o[i], 1.6e-5 * o[i] + 1e-30);
  }
  for (const char* name : {"top4_softmax", "top7_uniform"}) {
    ops::RowTransform t{AttentionMethod::parse(name).value()};
    std::vector<float> p = dispatch(t, s, mask);
    std::vector<size_t> idx = oracle::top_k_indices(t.method.top_k, s, mask);
    double total = 0;
    for (size_t i : idx) {
      EXPECT_GT(p[i], 0.0f) << name;
      total += p[i];
    }
    EXPECT_NEAR(total, 1.0, 1e-6) << name;
  }
  {  // relumax with the backend's (scale, bias)
    ops::RowTransform t{AttentionMethod::parse("relumax").value(), 8.0f, 1.0f};
    std::vector<float> p = dispatch(t, s, mask);
    double m = -1e30, total = 0;
    for (size_t i = 0; i < s.size(); ++i)
      if (mask[i]) m = std::max(m, static_cast<double>(s[i]));
    std::vector<double> w(s.size(), 0.0);
    for (size_t i = 0; i < s.size(); ++i)
      if (mask[i]) total += w[i] = std::max(0.0, 8.0 * (s[i] - m) + 1.0);
    for (size_t i = 0; i < s.size(); ++i) ASSERT_NEAR(p[i], w[i] / total, 1e-6);
  }
  {  // norm_relu
    ops::RowTransform t{AttentionMethod::parse("norm_relu").value(), 2.0f, -0.5f};
    std::vector<float> p = dispatch(t, s, mask);
    double total = 0;
    std::vector<double> w(s.size(), 0.0);
    for (size_t i = 0; i < s.size(); ++i)
      if (mask[i]) total += w[i] = std::max(0.0, 2.0 * s[i] - 0.5);
    for (size_t i = 0; i < s.size(); ++i) ASSERT_NEAR(p[i], w[i] / std::max(total, 1e-6), 1e-6);
  }
}

TEST(AttentionTransform, AllMaskedRowIsZeroForEveryKind) {
  std::vector<float> s = {1.0f, 2.0f, 3.0f};
  std::vector<uint8_t> none(3, 0);
  for (const char* name :
       {"softmax", "sparsemax", "entmax15", "entmax43", "entmax:1.7", "relumax", "top2_softmax", "top2_uniform"}) {
    ops::RowTransform t{AttentionMethod::parse(name).value()};
    std::vector<float> p = dispatch(t, s, none);
    EXPECT_EQ(p, (std::vector<float>{0, 0, 0})) << name;
  }
}

}  // namespace
}  // namespace tessera::testing_rows
