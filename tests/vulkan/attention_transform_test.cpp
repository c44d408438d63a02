// The attention shaders (scores -> transform -> values -> combine) on chosen score rows, every
// transform, against the float64 oracles: the keys are (s_j, 0, 0, 0) and the query (1, 0, 0, 0), so
// the cosine pass yields exactly s_j; p_j is read back from the transform pass (e_j · 1/Z) and the
// output o = Σ p_j v_j is checked too (softmax: o only, its fused pass never stores p). Includes adversarial rows (ties
// at tau, all equal, one dominant, n = 1, 1e30 / 1e-30 magnitudes, flat rows with more candidates than shared memory).
#include <cmath>

#include "support/attention_oracle.h"
#include "vk_test_util.h"

namespace tessera::vk::test {
namespace {

struct RowResult {
  std::vector<double> p, o;
};

class VulkanAttentionTransform : public VulkanTest {
 protected:
  // Runs one attention row over scores `s` (beta^2 = 1) with values `v` ([n, 4]).
  uint32_t d = 4;  // head size; keys are (s_j, 0, ..., 0), the query (1, 0, ..., 0)
  // spread: key j is s_j e_(j mod d) and the query all ones (c_j = s_j exactly), so every lane and
  // vec4 component of the cosine pass carries a nonzero product somewhere.
  bool spread = false;
  RowResult run_row(const AttentionMethod& method, const std::vector<float>& s, const std::vector<float>& v,
                    float relu_a = 1, float relu_b = 1) {
    const uint32_t n = uint32_t(s.size());
    std::vector<float> keys(size_t(n) * d, 0.0f);
    for (uint32_t j = 0; j < n; ++j) keys[j * d + (spread ? j % d : 0)] = s[j];
    std::vector<float> qv(d, spread ? 1.0f : 0.0f);
    qv[0] = 1.0f;
    BufferSlice step = upload({0, 0}), q = upload(qv), k = upload(keys), vals = upload(v);
    BufferSlice one = upload({1}), relu = upload({relu_a, relu_b}), out = zeros(d);
    AttentionScratchShape shape{1, d, n, 1, attention_workgroup(*ctx_, d), 256};
    auto scratch = make_attention_scratch(*ctx_, ctx_->weights(), shape);
    EXPECT_TRUE(scratch.ok());
    AttentionCall a = one_row_attention(method, n, d, step, q, k, vals, one, relu, out);
    // The exact entmax kinds normalise inside their value pass: ask it for the weights and 1 / sum.
    const bool split = method.kind == AttentionKind::kSparsemax || method.kind == AttentionKind::kEntmax15 ||
                       method.kind == AttentionKind::kEntmax43;
    a.store_weights = split;
    run([&](Recording& rec) { return record_attention(rec, *ctx_, a, *scratch); });
    auto e = download(scratch->scores, n);
    auto z = split ? std::vector<float>{download(scratch->ent_state, 16)[11]} : download(scratch->norm, 1);
    auto o = download(out, d);
    RowResult r;
    // Softmax runs fused (flash-decoding): its weights are never materialised; only o is checked.
    if (method.kind != AttentionKind::kSoftmax)
      for (float x : e) r.p.push_back(double(x) * z[0]);
    r.o.assign(o.begin(), o.end());
    return r;
  }

  void expect_matches(const AttentionMethod& method, const std::vector<float>& s, const std::vector<double>& want,
                      double tol, float relu_a = 1, float relu_b = 1) {
    std::mt19937 rng(17);
    std::vector<float> v = random_floats(s.size() * d, rng);
    RowResult got = run_row(method, s, v, relu_a, relu_b);
    double sum = 0;
    for (size_t j = 0; j < got.p.size(); ++j) {
      EXPECT_NEAR(got.p[j], want[j], tol) << method.name() << " j=" << j << " n=" << s.size();
      if (want[j] == 0.0 && method.entmax_alpha() > 1.0) {
        EXPECT_EQ(got.p[j], 0.0) << "support differs at " << j;
      }
      sum += got.p[j];
    }
    if (!got.p.empty()) {
      EXPECT_NEAR(sum, 1.0, 1e-5) << method.name();
    }
    for (uint32_t c = 0; c < d; ++c) {
      double o = 0;
      for (size_t j = 0; j < want.size(); ++j) o += want[j] * v[j * d + c];
      EXPECT_NEAR(got.o[size_t(c)], o, 4 * tol + 1e-6) << method.name() << " channel " << c;
    }
  }
};

AttentionMethod method_of(const char* name) { return AttentionMethod::parse(name).value(); }

using oracle::widen;

// fp32 scores of magnitude <= ~10 and fp32 prefix sums over <= 3000 candidates: 2e-6 absolute on p.
constexpr double kTol = 2e-6;

TEST_F(VulkanAttentionTransform, EntmaxFamilyOnRandomCosineRows) {
  std::mt19937 rng(1);
  for (uint32_t n : {1u, 7u, 64u, 65u, 500u}) {
    std::vector<float> s = random_floats(n, rng, -8.0f, 8.0f);  // β²·cos with β² = 8
    for (const char* name : {"sparsemax", "entmax15", "entmax43", "entmax:1.25", "entmax:3"}) {
      AttentionMethod m = method_of(name);
      expect_matches(m, s, oracle::entmax(m.entmax_alpha(), s).p, kTol);
    }
  }
}

TEST_F(VulkanAttentionTransform, EntmaxAdversarialRows) {
  std::vector<std::vector<float>> rows = {
      std::vector<float>(100, 0.25f),         // all equal: uniform
      {1.0f, 0.0f, 0.0f, 0.0f},               // sparsemax: the others sit exactly at tau
      {2.0f, 2.0f, 1.0f, 1.0f, 1.0f},         // ties on both sides
      {100.0f, 0.0f, -3.0f, 0.5f},            // one dominant entry
      {0.3f},                                 // n = 1
      {1e30f, 0.0f, -1e30f, 5e29f},           // huge magnitudes
      {1e-30f, 0.0f, -1e-30f, 2e-30f, 0.0f},  // tiny: indistinguishable, uniform
  };
  for (const auto& s : rows)
    for (const char* name : {"sparsemax", "entmax15", "entmax43"}) {
      AttentionMethod m = method_of(name);
      expect_matches(m, s, oracle::entmax(m.entmax_alpha(), s).p, kTol);
    }
}

TEST_F(VulkanAttentionTransform, EveryKeyACandidate) {
  // 3000 scores in [0, 0.5]: every one is within 1 of the max (a candidate) (attn_entmax_threshold.comp;
  // larger rows: attention_entmax_large_test.cpp).
  std::mt19937 rng(2);
  std::vector<float> s = random_floats(3000, rng, 0.0f, 0.5f);
  for (const char* name : {"sparsemax", "entmax15", "entmax43"}) {
    AttentionMethod m = method_of(name);
    expect_matches(m, s, oracle::entmax(m.entmax_alpha(), s).p, kTol);
  }
}

TEST_F(VulkanAttentionTransform, LongRowsCombineManyValueChunks) {
  // 20000 keys: the exact entmax value pass merges 105 chunks of 3 key units each, relumax's combine
  // 79 value chunks over several thread groups; outputs against the float64 oracle for a sparse, a
  // dense-ish and a dense transform. Tolerance: p as above.
  std::mt19937 rng(4);
  std::vector<float> s = random_floats(20000, rng, -3.0f, 3.0f);
  expect_matches(method_of("sparsemax"), s, oracle::entmax(2.0, s).p, kTol);
  expect_matches(method_of("entmax15"), s, oracle::entmax(1.5, s).p, kTol);
  expect_matches(method_of("relumax"), s, oracle::relu_row(widen(s), 0.1, 1.0, true, false), kTol, 0.1f, 1.0f);
}

TEST_F(VulkanAttentionTransform, SoftmaxIncludingLargeScores) {
  std::mt19937 rng(3);
  // 3000: many chunks merged by the last workgroup; 20000: several tiles per chunk (a running max
  // rescaled within the workgroup, kOnePassMaxChunks chunks at most).
  for (uint32_t n : {1u, 33u, 700u, 3000u, 20000u}) {
    std::vector<float> s = random_floats(n, rng, -30.0f, 30.0f);
    expect_matches(method_of("softmax"), s, oracle::softmax(widen(s)), kTol);
  }
  std::vector<float> big = {22026.0f, 22025.5f, 0.0f, 22026.0f};  // beta^2 = e^10 scale rows
  expect_matches(method_of("softmax"), big, oracle::softmax(widen(big)), kTol);
}

TEST_F(VulkanAttentionTransform, ReluMaxAndNormRelu) {
  std::mt19937 rng(4);
  std::vector<float> s = random_floats(300, rng, -1.0f, 1.0f);  // cosines
  // relumax: relu(A (c - max c) + B)
  expect_matches(method_of("relumax"), s, oracle::relu_row(widen(s), 8.0, 1.0, true, false), kTol, 8.0f, 1.0f);
  // norm_relu: relu(A (c - 1) + B), e.g. A = 2β², B = 1 (regular seed form)
  expect_matches(method_of("norm_relu"), s, oracle::relu_row(widen(s), 6.0, 1.0 - 6.0, false, true), kTol, 6.0f, 1.0f);
  // Every entry below zero: uniform.
  std::vector<float> neg(10, -0.5f);
  expect_matches(method_of("norm_relu"), neg, std::vector<double>(10, 0.1), kTol, 1.0f, 0.0f);
}

TEST_F(VulkanAttentionTransform, WideHeadsSplitEachKeyOverSeveralLanes) {
  d = 64;  // several lanes per key in cosine.glsl: the compensated butterfly runs
  std::mt19937 rng(6);
  std::vector<float> s = random_floats(300, rng, -20.0f, 20.0f);
  expect_matches(method_of("softmax"), s, oracle::softmax(widen(s)), kTol);
  expect_matches(method_of("entmax15"), s, oracle::entmax(1.5, s).p, kTol);
}

// cosine.glsl and attn_softmax_partial are specialised on the head size when it is a multiple of 16
// up to 128 (vec4 loads, unrolled; 48 and 96 leave a remainder in the lane split), else generic.
TEST_F(VulkanAttentionTransform, SpecialisedAndGenericHeadSizes) {
  spread = true;
  std::mt19937 rng(7);
  std::vector<float> s = random_floats(300, rng, -20.0f, 20.0f);  // 300: a partial last chunk
  for (uint32_t dd : {16u, 32u, 48u, 64u, 96u, 128u, 20u, 160u}) {
    d = dd;
    SCOPED_TRACE("d = " + std::to_string(d));
    const uint32_t wg = attention_workgroup(*ctx_, d);
    if (wg > ctx_->limits().max_workgroup_invocations) {
      // A head wider than the profile's workgroups (160 under Android Baseline 2022's 128): the kernel
      // is refused (and a model with such heads at load), never run past the limit.
      EXPECT_NE(ctx_->limits().profile, "full");
      auto k = ctx_->kernel(KernelId::kAttnSoftmaxPartial, {wg, 0});
      ASSERT_FALSE(k.ok());
      EXPECT_EQ(k.status().code(), StatusCode::kUnsupported) << k.status().to_string();
      continue;
    }
    expect_matches(method_of("softmax"), s, oracle::softmax(widen(s)), kTol);
    expect_matches(method_of("entmax15"), s, oracle::entmax(1.5, s).p, kTol);
  }
}

TEST_F(VulkanAttentionTransform, TopK) {
  std::mt19937 rng(5);
  std::vector<float> s = random_floats(200, rng, -5.0f, 5.0f);
  expect_matches(method_of("top4_softmax"), s, oracle::top_k(widen(s), 4, true), kTol);
  expect_matches(method_of("top7_uniform"), s, oracle::top_k(widen(s), 7, false), kTol);
  std::vector<float> few = {0.5f, 0.25f};  // fewer keys than K
  expect_matches(method_of("top4_softmax"), few, oracle::top_k(widen(few), 4, true), kTol);
}

}  // namespace
}  // namespace tessera::vk::test
