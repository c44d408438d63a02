// Random canonical models (the converter's tensor names) for tests that need shapes and options the authors'
// fixtures lack: quant/random_model.h's builder, the one `tessera bench --random-model` uses. `reference_of`
// gives the same model to the float64 reference forward; `random_float_model` gives it to the quantizer
// (quant::FloatModel, as read from a float file).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "model/convert.h"
#include "quant/float_model.h"
#include "quant/model_io.h"
#include "quant/random_model.h"
#include "support/reference_forward.h"

namespace tessera::testing {

struct RandomModelSpec {
  HParams hp;
  bool untied = false;
  bool clamped_head = false;  // one head per module on the β clamp (β² = e¹⁰)
  bool f16 = false;
  uint64_t seed = 7;
};

inline ConvertedModel make_random_model(const RandomModelSpec& spec) {
  quant::RandomModelOptions options;
  options.seed = spec.seed;
  options.untied = spec.untied;
  options.clamped_head = spec.clamped_head;
  options.f16 = spec.f16;
  return quant::make_random_model(spec.hp, options);
}

inline RefModel reference_of(const ConvertedModel& m) {
  RefModel r;
  r.hp = m.hparams;
  for (const Tensor& t : m.tensors) r.t[t.name] = to_f64(t);
  return r;
}

// The quantizer's copy (quant::FloatModel) of a random model of vocabulary V, width C, H heads, L layers and N
// memory slots (softmax attention, block 64): biases when `biases`, one head per module on the β clamp when
// `clamped_head`, as the authors' fixtures have.
inline quant::FloatModel random_float_model(int64_t V, int64_t C, int64_t H, int64_t L, int64_t N, uint64_t seed,
                                            bool biases = false, bool clamped_head = true) {
  RandomModelSpec spec;
  spec.hp.vocab_size = V;
  spec.hp.n_embd = C;
  spec.hp.n_head = H;
  spec.hp.n_layer = L;
  spec.hp.pmem_size = N;
  spec.hp.block_size = 64;
  spec.hp.bias = biases;
  spec.seed = seed;
  spec.clamped_head = clamped_head;
  const ConvertedModel m = make_random_model(spec);
  auto f = quant::float_model_from_tensors(
      m.hparams, [&](const std::string& n) { return quant::find_in(m.tensors, n); }, "random model");
  if (!f.ok()) {  // the builder's own tensors always read back: a failure here is a broken builder
    std::fprintf(stderr, "random_float_model: %s\n", f.status().to_string().c_str());
    std::abort();
  }
  return std::move(*f);
}

// A quant::FloatModel, folded or not, as the reference forward's canonical tensors (a folded model's output
// matrix carries the final LayerNorm's bias as output.bias).
inline RefModel reference_of(const quant::FloatModel& f) {
  RefModel r;
  r.hp = f.hp;
  auto vec = [&](const std::string& name, const auto& v) {
    if (!v.empty()) r.t[name] = Vec(v.begin(), v.end());
  };
  auto mat = [&](const std::string& stem, const quant::FloatMatrix& m) {
    vec(stem + ".weight", m.w);
    vec(stem + ".bias", m.b);
  };
  vec("token_embd.weight", f.embd.w);
  mat("output", f.output);
  vec("output_norm.weight", f.out_w);
  vec("output_norm.bias", f.out_b);
  for (int64_t l = 0; l < f.hp.n_layer; ++l) {
    const quant::FloatLayer& L = f.layers[size_t(l)];
    auto b = [&](const char* s) { return quant::block_name(l, s); };
    vec(b("attn_norm.weight"), L.ln1_w);
    vec(b("attn_norm.bias"), L.ln1_b);
    mat(b("attn_k"), L.k);
    mat(b("attn_v"), L.v);
    mat(b("attn_output"), L.o);
    vec(b("attn_key_decay"), L.key_decay);
    vec(b("attn_key_scale"), L.key_scale);
    vec(b("attn_value_scale"), L.value_scale);
    vec(b("attn_value_mix"), L.value_mix);
    if (f.hp.attn_only) continue;
    vec(b("pmem_norm.weight"), L.ln2_w);
    vec(b("pmem_norm.bias"), L.ln2_b);
    mat(b("pmem_k"), L.pk);
    mat(b("pmem_output"), L.po);
    vec(b("pmem_key_decay"), L.pmem_decay);
    vec(b("pmem_query_scale"), L.pmem_query_scale);
    vec(b("pmem_value_scale"), L.pmem_value_scale);
    vec(b("pmem_mem_k"), L.mem_k);
    vec(b("pmem_mem_v"), L.mem_v);
  }
  return r;
}

}  // namespace tessera::testing
