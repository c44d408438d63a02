// A random tiny Memory Mosaics model as a Vulkan ModelView, with the float64 values of its weights for the
// float64 reference forward, used to check the Vulkan forward end to end. The weights are quant/random_model.h's
// (the one random-model builder); matrices and memory slots are stored F32, F16, or I8 with a scale per row /
// per slot (tests/support/stored_rows.h), and the reference sees them after that rounding.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "quant/quantize_model.h"
#include "quant/random_model.h"
#include "support/reference_forward.h"
#include "support/stored_rows.h"
#include "vulkan/model_view.h"

namespace tessera::vk::test {

struct RandomModel {
  ModelView view;
  testing::RefModel reference;  // float64 of every weight as the device sees it (after F16/I8 rounding)
};

// hp must have vocab, C, H, layers, pmem size/count, method, mask_offset, pre_ln, attn_only, bias set. The head
// is tied; logit_scale is 1/sqrt(C).
inline RandomModel make_random_model(HParams hp, DType dt, uint32_t seed) {
  const int64_t C = hp.n_embd, H = hp.n_head, d = C / H;
  hp.logit_scale = float(1.0 / std::sqrt(double(C)));
  quant::RandomModelOptions options;
  options.seed = seed;
  const ConvertedModel model = quant::make_random_model(hp, options);
  RandomModel m;
  m.view.hp = model.hparams;
  m.reference.hp = model.hparams;
  auto find = [&](const std::string& name) -> const Tensor& { return *quant::find_in(model.tensors, name); };
  auto f32 = [&](const std::string& name) {  // an F32 tensor as stored (norms, biases)
    m.reference.t[name] = testing::to_f64(find(name));
    return find(name);
  };
  auto heads = [&](const std::string& name) {
    const auto v = find(name).as<float>();
    m.reference.t[name] = {v.begin(), v.end()};
    return std::vector<float>(v.begin(), v.end());
  };
  auto stored = [&](const std::string& name, std::vector<int64_t> shape, int64_t rows, Tensor* scale) {
    Tensor t = testing::stored_rows(name, find(name).as<float>(), std::move(shape), rows, dt, scale);
    m.reference.t[name] = testing::stored_values(t, *scale);
    return t;
  };
  auto matrix = [&](const std::string& stem, int64_t rows) {
    Matrix x;
    x.rows = rows;
    x.cols = C;
    x.weight = stored(stem + ".weight", {rows, C}, rows, &x.scale);
    if (hp.bias && stem != "token_embd") x.bias = f32(stem + ".bias");
    return x;
  };
  auto norm = [&](const std::string& stem) {
    Norm n;
    n.weight = f32(stem + ".weight");
    if (hp.bias) n.bias = f32(stem + ".bias");
    return n;
  };
  m.view.token_embd = matrix("token_embd", hp.vocab_size);
  m.view.output = m.view.token_embd;  // tied: the reference uses the embedding too
  m.view.output_norm = norm("output_norm");
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights w;
    w.attn_norm = norm(p + "attn_norm");
    w.attn_k = matrix(p + "attn_k", C);
    w.attn_v = matrix(p + "attn_v", C);
    w.attn_out = matrix(p + "attn_output", C);
    w.attn_key_decay = heads(p + "attn_key_decay");
    w.attn_key_scale = heads(p + "attn_key_scale");
    w.attn_value_scale = heads(p + "attn_value_scale");
    w.attn_value_mix = heads(p + "attn_value_mix");
    if (!hp.attn_only) {
      w.pmem_norm = norm(p + "pmem_norm");
      w.pmem_k = matrix(p + "pmem_k", C);
      w.pmem_out = matrix(p + "pmem_output", C);
      w.pmem_key_decay = heads(p + "pmem_key_decay");
      w.pmem_query_scale = heads(p + "pmem_query_scale");
      w.pmem_value_scale = heads(p + "pmem_value_scale");
      const int64_t slots = hp.pmem_count * H * hp.pmem_size;
      w.pmem_mem_k = stored(p + "pmem_mem_k", {hp.pmem_count, H, hp.pmem_size, d}, slots, &w.pmem_mem_k_scale);
      w.pmem_mem_v = stored(p + "pmem_mem_v", {hp.pmem_count, H, hp.pmem_size, d}, slots, &w.pmem_mem_v_scale);
    }
    m.view.layers.push_back(std::move(w));
  }
  return m;
}

// logits [T, V] of the whole token sequence, float64: the tests' reference forward
// (tests/support/reference_forward.h) on the weights as the device sees them.
std::vector<double> oracle_forward(const RandomModel& m, const std::vector<int32_t>& tokens);

}  // namespace tessera::vk::test
