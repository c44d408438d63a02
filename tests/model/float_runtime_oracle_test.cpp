// The float CPU runtime against an independent float64 full-recompute forward pass
// (tests/support/reference_forward.h) on random models: every attention transform, both seed forms, the
// seed-EFT mask, post-LN, attention-only, biases, two persistent memories, untied head, F16.
// Tolerance 2e-4 on logits of magnitude ~1–5: float32 weights are shared exactly, so the gap is
// float32 rounding of activations through 2 layers (observed 6e-7–6e-5; the largest is regular
// relumax, whose β⁴ factor amplifies key rounding). Heads on the β clamp (β² = e¹⁰) stay within it
// because the runtime folds β and the row maximum in double before rounding scores to float.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "support/random_model.h"
#include "tessera/tessera.h"
#include "test_util.h"

namespace tessera {
namespace {

struct Case {
  std::string name;
  std::string method;
  std::function<void(testing::RandomModelSpec&)> tweak;
  double tol = 2e-4;
};

HParams small_hp(const std::string& method) {
  HParams hp;
  hp.vocab_size = 37;
  hp.n_embd = 24;
  hp.n_head = 3;
  hp.n_layer = 2;
  hp.block_size = 64;
  hp.pmem_size = 11;
  hp.pmem_count = 1;
  hp.method = AttentionMethod::parse(method).value();
  return hp;
}

class FloatRuntimeOracle : public ::testing::TestWithParam<Case> {};

TEST_P(FloatRuntimeOracle, LogitsMatchFloat64Reference) {
  const Case& c = GetParam();
  testing::RandomModelSpec spec;
  spec.hp = small_hp(c.method);
  if (c.tweak) c.tweak(spec);
  ConvertedModel model = testing::make_random_model(spec);
  testing::TempDir dir("oracle");
  ASSERT_TRUE(write_model_gguf(model, dir.file("m.gguf")).ok());
  auto loaded = Model::load(dir.file("m.gguf"), {});
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();

  std::mt19937 rng(3);
  std::vector<int32_t> tokens(40);
  for (auto& t : tokens) t = int32_t(rng() % uint32_t(spec.hp.vocab_size));
  tokens[20] = tokens[5], tokens[21] = tokens[6], tokens[22] = tokens[7];  // a repeat, as recall tasks have

  const size_t T = tokens.size(), V = size_t(spec.hp.vocab_size);
  SessionOptions so;
  so.max_tokens = int64_t(T);
  auto session = Session::create(**loaded, so);
  ASSERT_TRUE(session.ok());
  std::vector<float> got(T * V);
  ASSERT_TRUE((*session)->prefill(tokens, got).ok());
  auto want = testing::reference_logits(testing::reference_of(model), tokens);
  double worst = 0;
  for (size_t t = 0; t < T; ++t)
    for (size_t v = 0; v < V; ++v) worst = std::max(worst, std::fabs(double(got[t * V + v]) - want[t][v]));
  EXPECT_LE(worst, c.tol) << c.name;
  std::printf("[ %s ] max |dlogit| = %.3g\n", c.name.c_str(), worst);
}

std::vector<Case> cases() {
  auto form_eft = [](testing::RandomModelSpec& s) {
    s.hp.method.form = SeedForm::kEft;
    s.hp.l2_norm_eps = 1e-6f;
  };
  return {
      {"softmax", "softmax", nullptr},
      {"sparsemax", "sparsemax", nullptr},
      {"entmax15", "entmax15", nullptr},
      {"entmax43", "entmax43", nullptr},
      {"entmax_alpha_1_25", "entmax:1.25", nullptr},
      {"entmax_alpha_3", "entmax:3", nullptr},
      {"relumax_regular", "relumax", nullptr},
      {"relumax_eft_mask2", "relumax",
       [=](auto& s) {
         form_eft(s);
         s.hp.mask_offset = 2;
       }},
      {"norm_relu_regular", "norm_relu", nullptr},
      {"norm_relu_eft_mask2", "norm_relu",
       [=](auto& s) {
         form_eft(s);
         s.hp.mask_offset = 2;
       }},
      {"top3_softmax", "top3_softmax", nullptr},
      {"top3_uniform_mask2", "top3_uniform", [](auto& s) { s.hp.mask_offset = 2; }},
      {"post_ln", "entmax15", [](auto& s) { s.hp.pre_ln = false; }},
      {"attn_only", "sparsemax", [](auto& s) { s.hp.attn_only = true; }},
      {"bias", "softmax", [](auto& s) { s.hp.bias = true; }},
      {"two_memories_untied", "entmax15",
       [](auto& s) {
         s.hp.pmem_count = 2;
         s.untied = true;
       }},
      {"f16_weights", "entmax43", [](auto& s) { s.f16 = true; }},
      {"clamped_head_softmax", "softmax", [](auto& s) { s.clamped_head = true; }},
      {"clamped_head_entmax15", "entmax15", [](auto& s) { s.clamped_head = true; }},
  };
}

INSTANTIATE_TEST_SUITE_P(All, FloatRuntimeOracle, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tessera
