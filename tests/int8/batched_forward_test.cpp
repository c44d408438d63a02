// The batched float32 forward pass the quantizer calibrates and searches with: it computes the
// float64 reference forward's logits and activation sites (to float32 rounding), its results do not depend on
// the thread count, a restart from a cached layer input reproduces the full run bit for bit, and its
// fake-quantized weights are the ones the quantizer stores.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/batched_forward.h"
#include "quant/activation_observer.h"
#include "quant/quantize_tensor.h"
#include "int8_run.h"
#include "support/random_model.h"

namespace tessera {
namespace {

using namespace testing_int8;
using testing::random_float_model;

// Max |value| per (layer, site) and of the final LayerNorm output.
class MaxSites : public quant::ActivationObserver {
 public:
  explicit MaxSites(int64_t layers) : sites(size_t(layers), std::vector<double>(quant::kSiteCount, 0.0)) {}
  void layer_site(int64_t layer, quant::Site site, double* v, int64_t n) override {
    for (int64_t i = 0; i < n; ++i)
      sites[size_t(layer)][size_t(site)] = std::max(sites[size_t(layer)][size_t(site)], std::fabs(v[i]));
  }
  void residual(const double*, int64_t) override {}
  void final_norm(double* v, int64_t n) override {
    for (int64_t i = 0; i < n; ++i) final_norm_max = std::max(final_norm_max, std::fabs(v[i]));
  }
  void logits(const double*, int64_t) override {}
  std::vector<std::vector<double>> sites;
  double final_norm_max = 0;
};

quant::FloatModel folded_model(AttentionKind kind, uint64_t seed) {
  quant::FloatModel m = random_float_model(61, 32, 4, 2, 24, seed, true, true);
  m.hp.method.kind = kind;
  auto f = quant::fold(m);
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  return std::move(*f);
}

TEST(BatchedForward, MatchesTheFloat64ReferenceLogitsAndSites) {
  for (AttentionKind kind : {AttentionKind::kSoftmax, AttentionKind::kEntmax15, AttentionKind::kSparsemax}) {
    const quant::FloatModel f = folded_model(kind, 3);
    const std::vector<int32_t> seq = sequences(61, 1, 40, 5)[0];
    MaxSites ref(f.hp.n_layer), got(f.hp.n_layer);
    const auto expected = testing::reference_logits(testing::reference_of(f), seq, &ref);
    quant::BatchedForward engine(f, 2);
    quant::ForwardRun run;
    run.observer = &got;
    std::vector<float> logits;
    engine.run(seq, run, logits);
    ASSERT_EQ(logits.size(), seq.size() * 61);
    double span = 0, worst = 0;
    for (size_t t = 0; t < seq.size(); ++t)
      for (size_t v = 0; v < 61; ++v) {
        span = std::max(span, std::fabs(expected[t][v]));
        worst = std::max(worst, std::fabs(expected[t][v] - double(logits[t * 61 + v])));
      }
    // float32 products of 32-term dots and float32 cached keys/values: ~1e-6 relative per step;
    // β² = e^10 heads amplify key rounding, hence 1e-4 of the logit range.
    EXPECT_LE(worst, 1e-4 * span) << "kind " << int(kind);
    for (int64_t l = 0; l < f.hp.n_layer; ++l)
      for (int s = 0; s < quant::kSiteCount; ++s)
        EXPECT_NEAR(got.sites[size_t(l)][size_t(s)], ref.sites[size_t(l)][size_t(s)],
                    1e-4 * std::max(1.0, ref.sites[size_t(l)][size_t(s)]))
            << "layer " << l << " site " << s;
    EXPECT_NEAR(got.final_norm_max, ref.final_norm_max, 1e-5 * ref.final_norm_max);
  }
}

TEST(BatchedForward, ResultsDoNotDependOnTheThreadCount) {
  const quant::FloatModel f = folded_model(AttentionKind::kEntmax15, 4);
  const std::vector<int32_t> seq = sequences(61, 1, 48, 6)[0];
  std::vector<float> one, three;
  quant::BatchedForward a(f, 1), b(f, 3);
  a.run(seq, {}, one);
  b.run(seq, {}, three);
  ASSERT_EQ(one.size(), three.size());
  EXPECT_EQ(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)), 0);
}

TEST(BatchedForward, RestartFromEveryCachedPointIsBitIdentical) {
  const quant::FloatModel f = folded_model(AttentionKind::kSoftmax, 5);
  const std::vector<int32_t> seq = sequences(61, 1, 30, 7)[0];
  quant::BatchedForward engine(f, 2);
  quant::LayerInputs inputs;
  quant::ForwardRun keep;
  keep.keep = &inputs;
  std::vector<float> full, part;
  engine.run(seq, keep, full);
  const int64_t last = quant::restart_point(f.hp.n_layer, quant::Stage::kLayerInput);
  ASSERT_EQ(inputs.size(), size_t(last + 1));
  for (int64_t first = 1; first <= last; ++first) {
    quant::ForwardRun restart;
    restart.first_point = first;
    restart.start = &inputs;
    engine.run(seq, restart, part);
    ASSERT_EQ(std::memcmp(full.data(), part.data(), full.size() * sizeof(float)), 0) << "from point " << first;
    // The single-threaded path of a worker gives the same bits.
    engine.run_on(1, seq, restart, part);
    ASSERT_EQ(std::memcmp(full.data(), part.data(), full.size() * sizeof(float)), 0) << "worker, point " << first;
  }
}

TEST(BatchedForward, FakeQuantizedWeightsAreTheStoredGrid) {
  const quant::FloatModel f = folded_model(AttentionKind::kSoftmax, 6);
  // Reference: the float64 reference forward on a copy whose weights were rounded to the grid quantize_rows
  // stores (scale·q, then to float32 as the model holds its matrices), every tensor at 8 bits except
  // attn_v of layer 1 at 16.
  auto bits = [](const std::string& n) { return n == "blk.1.attn_v.weight" ? 16 : 8; };
  quant::FloatModel g = f;
  auto fq = [&](const std::string& n, std::vector<float>& w, int64_t rows) {
    quant::fake_quantize_rows_f32(w.data(), rows, int64_t(w.size()) / rows, bits(n), w.data());
  };
  fq("token_embd.weight", g.embd.w, 61);
  fq("output.weight", g.output.w, 61);
  for (int64_t l = 0; l < g.hp.n_layer; ++l) {
    quant::FloatLayer& L = g.layers[size_t(l)];
    fq(quant::block_name(l, "attn_k.weight"), L.k.w, 32);
    fq(quant::block_name(l, "attn_v.weight"), L.v.w, 32);
    fq(quant::block_name(l, "attn_output.weight"), L.o.w, 32);
    fq(quant::block_name(l, "pmem_k.weight"), L.pk.w, 32);
    fq(quant::block_name(l, "pmem_output.weight"), L.po.w, 32);
    fq(quant::block_name(l, "pmem_mem_k"), L.mem_k, 4 * 24);
    fq(quant::block_name(l, "pmem_mem_v"), L.mem_v, 4 * 24);
  }
  const std::vector<int32_t> seq = sequences(61, 1, 24, 8)[0];

  quant::BatchedForward engine(f, 2);
  const quant::WeightBitsFn fn = bits;
  quant::ForwardRun run;
  run.weight_bits = &fn;
  std::vector<float> logits, plain;
  engine.run(seq, run, logits);
  engine.run(seq, {}, plain);
  double span = 0, worst = 0, moved = 0;
  const auto expected = testing::reference_logits(testing::reference_of(g), seq);
  for (size_t t = 0; t < seq.size(); ++t) {
    const std::vector<double>& e = expected[t];
    for (size_t v = 0; v < 61; ++v) {
      span = std::max(span, std::fabs(e[v]));
      worst = std::max(worst, std::fabs(e[v] - double(logits[t * 61 + v])));
      moved = std::max(moved, std::fabs(double(plain[t * 61 + v]) - double(logits[t * 61 + v])));
    }
  }
  EXPECT_LE(worst, 1e-4 * span);
  EXPECT_GT(moved, 1e-3 * span);  // the rounding is visible: the run did quantize
}

}  // namespace
}  // namespace tessera
