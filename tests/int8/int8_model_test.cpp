// The whole integer pipeline on random fixture-like models: folding is exact up to float32 rounding, the integer-only
// forward agrees with the float64 reference, bad quantized tensors are refused with clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "cpu_int8/int8_forward.h"
#include "cpu_int8/int8_plan.h"
#include "quant/quantize_model.h"
#include "int8_run.h"
#include "support/random_model.h"

namespace tessera {
namespace {

using testing::random_float_model;
using namespace testing_int8;

TEST(Int8Fold, FoldedModelComputesTheSameLogits) {
  for (bool biases : {false, true}) {
    quant::FloatModel m = random_float_model(101, 32, 4, 2, 40, 7, biases);
    auto f = quant::fold(m);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    EXPECT_TRUE(f->layers[0].ln1_w.empty());
    EXPECT_EQ(f->hp.logit_scale, 1.0f);
    const std::vector<int32_t> seq = sequences(101, 1, 24, 3)[0];
    const auto a = testing::reference_logits(testing::reference_of(m), seq);
    const auto b = testing::reference_logits(testing::reference_of(*f), seq);
    for (size_t t = 0; t < seq.size(); ++t) {
      const std::vector<double>&la = a[t], &lb = b[t];
      // Folding reassociates products in float64 and rounds each folded matrix element once to
      // float32 (2^-24 relative). β'² up to e^10 is folded into M_k, so a persistent-memory score can
      // move by ~2e4 · 2^-24 ≈ 1e-3 before the softmax; on logits of size ~1 this measured 1.0e-6
      // (no biases) and 2.2e-7 (biases), hence a bound of 1e-5, far below the int8 errors (~1e-2).
      for (size_t v = 0; v < la.size(); ++v) ASSERT_NEAR(la[v], lb[v], 1e-5) << "biases=" << biases;
    }
  }
}

TEST(Int8Fold, RefusesPostLnModels) {
  quant::FloatModel m = random_float_model(11, 8, 2, 1, 4, 1);
  m.hp.pre_ln = false;
  auto f = quant::fold(m);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kUnsupported);
}

TEST(Int8Model, AgreesWithFloatReference) {
  Agreement plain, clamped;
  for (uint64_t seed : {1, 2, 3, 4}) {
    // Odd seeds put one head of every module on the β² = e^10 clamp, like the fixtures.
    quant::FloatModel m = random_float_model(101, 32, 4, 2, 40, seed, false, seed % 2);
    Int8Run run = quantize_and_plan(m);
    ASSERT_TRUE(run.plan);
    for (const auto& seq : sequences(101, 2, 24, seed + 100))
      add_agreement(seed % 2 ? clamped : plain, *run.plan, m, seq);
  }
  std::printf(
      "int8 vs float64 top-1 agreement %d/%d (clamped heads %d/%d), worst max|Δlogit|/max|logit| %.4f "
      "(clamped heads %.4f)\n",
      plain.agree, plain.total, clamped.agree, clamped.total, plain.worst_rel, clamped.worst_rel);
  // Random-init models have near-flat logits (top-1/top-2 gaps down to 1e-3 of the logit range),
  // so a few flips are expected here; the ≥ 99% target is checked on the authors' fixtures.
  EXPECT_GE(plain.agree + clamped.agree, (plain.total + clamped.total) * 85 / 100);
  // Per-channel int8 weights of Gaussian rows (step max|row|/127 with max|row| ≈ 3σ) and int8 activations
  // err by ~1% per matrix: measured worst 4.6% of max|logit|, bound 6%.
  EXPECT_LT(plain.worst_rel, 0.06);
  // A head on the β² = e^10 clamp is a hard argmax (a cos gap of 1e-4 is a score gap of 2): at a near tie
  // an int8 key error hands the row to another key or memory slot, and that head's whole output moves —
  // up to a third of max|logit| here (measured worst 33%), bound 40%. Top-1 still agrees.
  EXPECT_LT(clamped.worst_rel, 0.40);
}

TEST(Int8Model, EveryIntegerAttentionMethodTracksTheFloatReference) {
  // The contextual memory through the ops/fixed integer kernels (Q1.15 weights). Models without clamp
  // heads: the methods differ in how sharply they select keys, not in their sensitivity to β².
  for (const char* name : {"sparsemax", "entmax15", "entmax43", "relumax", "top4_softmax", "top4_uniform"}) {
    quant::FloatModel m = random_float_model(101, 32, 4, 2, 40, 11, false, false);
    auto method = AttentionMethod::parse(name);
    ASSERT_TRUE(method.ok());
    m.hp.method = *method;
    Int8Run run = quantize_and_plan(m);
    ASSERT_TRUE(run.plan) << name;
    const auto seq = sequences(101, 1, 24, 17)[0];
    Agreement r;
    add_agreement(r, *run.plan, m, seq);
    const int agree = r.agree;
    const double worst_rel = r.worst_rel;
    std::printf("%-13s top-1 %d/24, worst max|Δlogit|/max|logit| %.4f\n", name, agree, worst_rel);
    // The softmax budget (AgreesWithFloatReference, measured ≤ 6.4% for these five) plus a support
    // change of a sparse row near a tie, hence 10% and 20/24. relumax cuts its row at a fixed distance b
    // below the max score, so every key near that cut can enter or leave the support: measured 12.8%, bound 15%.
    EXPECT_GE(agree, 20) << name;
    EXPECT_LT(worst_rel, std::string(name) == "relumax" ? 0.15 : 0.10) << name;
  }
}

TEST(Int8Model, DeterministicAndResettable) {
  quant::FloatModel m = random_float_model(50, 16, 2, 1, 8, 5);
  Int8Run a = quantize_and_plan(m), b = quantize_and_plan(m);
  ASSERT_EQ(a.q.tensors.size(), b.q.tensors.size());
  for (size_t i = 0; i < a.q.tensors.size(); ++i) {
    ASSERT_EQ(a.q.tensors[i].name, b.q.tensors[i].name);
    ASSERT_EQ(a.q.tensors[i].nbytes, b.q.tensors[i].nbytes);
    ASSERT_EQ(std::memcmp(a.q.tensors[i].data, b.q.tensors[i].data, a.q.tensors[i].nbytes), 0) << a.q.tensors[i].name;
  }
  const auto seq = sequences(50, 1, 10, 8)[0];
  EXPECT_EQ(run_int8(*a.plan, seq), run_int8(*b.plan, seq));
}

// The plan's status for `model` with its tensors replaced by `tensors`.
Status plan_status(quant::QuantizedModel model, std::vector<Tensor> tensors) {
  model.tensors = std::move(tensors);
  return plan_in_memory(model, ops::int8::Isa::kPortable, "bad.gguf").status();
}

TEST(Int8Model, RefusesBadModelsWithClearErrors) {
  quant::FloatModel m = random_float_model(20, 8, 2, 1, 4, 6);
  Int8Run run = quantize_and_plan(m);
  // A float-only model.
  quant::QuantizeOptions f16;
  f16.mode = quant::QuantMode::kF16;
  auto fm = quant::quantize_model(m, f16);
  ASSERT_TRUE(fm.ok());
  Status s = plan_status(*fm, fm->tensors);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
  EXPECT_NE(s.message().find("not an int8 model"), std::string::npos) << s.message();
  // A missing scale.
  std::vector<Tensor> t = run.q.tensors;
  t.erase(std::find_if(t.begin(), t.end(), [](const Tensor& x) { return x.name == "blk.0.attn_v.weight.scale"; }));
  s = plan_status(run.q, t);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("blk.0.attn_v.weight.scale"), std::string::npos) << s.message();
  // A scale of the wrong shape.
  t = run.q.tensors;
  for (Tensor& x : t)
    if (x.name == "output.weight.scale") x.shape = {x.shape[0] - 1}, x.nbytes -= 4;
  s = plan_status(run.q, t);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);  // the model view's code for a shape that does not match
  EXPECT_NE(s.message().find("expected shape [20]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("output.weight.scale"), std::string::npos) << s.message();
  // A negative scale.
  t = run.q.tensors;
  std::vector<float> neg(8, -1.0f);
  for (Tensor& x : t)
    if (x.name == "blk.0.pmem_k.weight.scale") x = make_f32_tensor(x.name, {8}, neg);
  s = plan_status(run.q, t);
  EXPECT_EQ(s.code(), StatusCode::kCorruptFile);
  EXPECT_NE(s.message().find("not a finite positive"), std::string::npos) << s.message();
  // Missing activation scales.
  t = run.q.tensors;
  t.erase(std::find_if(t.begin(), t.end(), [](const Tensor& x) { return x.name == "blk.0.int8.activation_scales"; }));
  EXPECT_EQ(plan_status(run.q, t).code(), StatusCode::kNotFound);
  // A decay of 1: refused by the model view (one range check for every backend), naming the tensor.
  t = run.q.tensors;
  const std::vector<float> decays = {0.5f, 1.0f};
  for (Tensor& x : t)
    if (x.name == "blk.0.attn_key_decay") x = make_f32_tensor(x.name, {2}, decays);
  s = plan_status(run.q, t);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
  EXPECT_NE(s.message().find("blk.0.attn_key_decay"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[0, 1)"), std::string::npos) << s.message();
  // No output matrix (a tied head): the int8 model's head is its own folded matrix.
  t = run.q.tensors;
  std::erase_if(t, [](const Tensor& x) { return x.name == "output.weight" || x.name == "output.weight.scale"; });
  s = plan_status(run.q, t);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.to_string();
  EXPECT_NE(s.message().find("output.weight"), std::string::npos) << s.message();
}

TEST(Int8Model, ReportSqnrMatchesTheUniformQuantizerTheory) {
  // Rows drawn from U(-b, b) quantized with step s = max|row|/127: error ~ U(-s/2, s/2), so
  // SQNR = 10·log10(E[w²]/E[e²]) = 10·log10((b²/3)/(s²/12)) ≈ 10·log10(4·127²) = 48.1 dB
  // (a little more: max|row| < b). C = 64 rows of 64 give ±0.6 dB of sampling spread.
  quant::FloatModel m = random_float_model(50, 64, 4, 1, 8, 12, false, false);
  const double b = 1.0 / std::sqrt(64.0);
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> uniform(-b, b);
  for (quant::FloatMatrix* x : {&m.layers[0].v, &m.layers[0].pk})
    for (float& w : x->w) w = float(uniform(rng));
  m.layers[0].ln1_w.clear();  // no LayerNorm gains: folding leaves the rows uniform
  m.layers[0].ln2_w.clear();
  quant::QuantizeOptions opt;
  opt.mode = quant::QuantMode::kWeightsOnly;
  auto q = quant::quantize_model(m, opt);
  ASSERT_TRUE(q.ok());
  int checked = 0;
  for (const quant::TensorReport& t : q->report.tensors) {
    if (t.name != "blk.0.attn_v.weight" && t.name != "blk.0.pmem_k.weight") continue;
    EXPECT_NEAR(t.sqnr_db, 48.1, 1.5) << t.name;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
  EXPECT_NE(q->report.text().find("overall SQNR"), std::string::npos);
  // Weights-only files carry no activation scales.
  EXPECT_EQ(quant::find_in(q->tensors, "int8.activation_scales"), nullptr);
}

TEST(Int8Model, CalibrationRejectsOutOfVocabularyTokens) {
  quant::FloatModel m = random_float_model(20, 8, 2, 1, 4, 6);
  quant::QuantizeOptions opt;
  opt.calibration_sequences = {{1, 2, 3}, {4, 20, 5}};
  auto q = quant::quantize_model(m, opt);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(q.status().message().find("sequence 2, position 2: token 20 is outside the vocabulary [0, 20)"),
            std::string::npos)
      << q.status().message();
}

TEST(Int8Model, PercentileCalibrationAlsoRuns) {
  quant::FloatModel m = random_float_model(101, 32, 4, 2, 40, 9);
  Int8Run run = quantize_and_plan(m, {quant::CalibrationMethod::kPercentile, 99.9});
  ASSERT_TRUE(run.plan);
  const auto seq = sequences(101, 1, 24, 5)[0];
  const auto ref = testing::reference_logits(testing::reference_of(m), seq);
  const auto got = run_int8(*run.plan, seq);
  int agree = 0;
  for (size_t t = 0; t < seq.size(); ++t) agree += argmax(got[t]) == argmax(ref[t]);
  EXPECT_GE(agree, 20);
}

}  // namespace
}  // namespace tessera
