// Random canonical models (the converter's tensor names) for tests that need shapes and options the authors'
// fixtures lack; `reference_of` gives the same model to the float64 reference forward.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model/convert.h"
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
  ConvertedModel m;
  m.hparams = spec.hp;
  HParams& hp = m.hparams;
  if (hp.logit_scale == 0) hp.logit_scale = float(1.0 / std::sqrt(double(hp.n_embd)));
  std::mt19937_64 rng(spec.seed);
  const int64_t C = hp.n_embd, H = hp.n_head, d = hp.head_dim(), V = hp.vocab_size;
  auto normal = [&](std::vector<int64_t> shape, double sd) {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    std::normal_distribution<double> g(0, sd);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = float(g(rng));
    return v;
  };
  auto uniform = [&](int64_t n, double lo, double hi) {
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = float(u(rng));
    return v;
  };
  auto add = [&](const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
    Tensor t = make_f32_tensor(name, shape, v);
    if (spec.f16 && shape.size() >= 2) {
      std::vector<std::byte> b(v.size() * 2);
      for (size_t i = 0; i < v.size(); ++i) {
        uint16_t h = float_to_half(v[i]);
        std::memcpy(b.data() + 2 * i, &h, 2);
      }
      t = make_owned_tensor(name, DType::kF16, shape, std::move(b));
    }
    m.tensors.push_back(t);
  };
  const double wsd = 1.0 / std::sqrt(double(C));
  add("token_embd.weight", {V, C}, normal({V, C}, 1.0));
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    auto norm = [&](const std::string& stem) {
      add(p + stem + ".weight", {C}, uniform(C, 0.5, 1.5));
      if (hp.bias) add(p + stem + ".bias", {C}, normal({C}, 0.1));
    };
    auto mat = [&](const std::string& stem) {
      add(p + stem + ".weight", {C, C}, normal({C, C}, wsd));
      if (hp.bias) add(p + stem + ".bias", {C}, normal({C}, 0.1));
    };
    auto beta = [&](double lo, double hi) {
      std::vector<float> b = uniform(H, lo, hi);
      if (spec.clamped_head) b[0] = float(std::exp(5.0));
      return b;
    };
    norm("attn_norm");
    mat("attn_k");
    mat("attn_v");
    mat("attn_output");
    add(p + "attn_key_decay", {H}, uniform(H, 0.05, 0.95));
    add(p + "attn_key_scale", {H}, beta(1.2, 7.0));
    add(p + "attn_value_scale", {H}, uniform(H, 0.6, 1.4));
    add(p + "attn_value_mix", {H}, uniform(H, -0.2, 1.2));
    if (hp.attn_only) continue;
    norm("pmem_norm");
    mat("pmem_k");
    mat("pmem_output");
    add(p + "pmem_key_decay", {H}, uniform(H, 0.05, 0.95));
    std::vector<float> qs = beta(1.2, 7.0);
    for (float& q : qs) q *= q;
    add(p + "pmem_query_scale", {H}, qs);
    add(p + "pmem_value_scale", {H}, uniform(H, 0.6, 1.4));
    add(p + "pmem_mem_k", {hp.pmem_count, H, hp.pmem_size, d}, normal({hp.pmem_count, H, hp.pmem_size, d}, 1 / std::sqrt(double(d))));
    add(p + "pmem_mem_v", {hp.pmem_count, H, hp.pmem_size, d}, normal({hp.pmem_count, H, hp.pmem_size, d}, 1 / std::sqrt(double(d))));
  }
  add("output_norm.weight", {C}, uniform(C, 0.5, 1.5));
  if (hp.bias) add("output_norm.bias", {C}, normal({C}, 0.1));
  if (spec.untied) {
    add("output.weight", {V, C}, normal({V, C}, 1.0));
    hp.weight_tying = false;
  }
  return m;
}

inline RefModel reference_of(const ConvertedModel& m) {
  RefModel r;
  r.hp = m.hparams;
  for (const Tensor& t : m.tensors) r.t[t.name] = to_f64(t);
  return r;
}

}  // namespace tessera::testing
