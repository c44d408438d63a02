// A GPT-2-small-sized Memory Mosaics model with random weights, built in memory (no GGUF needed):
// 12 layers, C = 768, 12 heads, N = 2688 slots, vocab 50304. The weights are quant/random_model.h's (the one
// random-model builder); matrices and memory slots are stored F16, or I8 with a scale per row / per slot as
// `tessera quantize` writes them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "quant/quantize_model.h"
#include "quant/random_model.h"
#include "support/stored_rows.h"
#include "vulkan/model_view.h"

namespace tessera::bench {

struct ModelShape {
  int64_t vocab = 50304, C = 768, H = 12, layers = 12, slots = 2688;
};

// F16, or I8 with one scale per row (tests/support/stored_rows.h).
inline Tensor rows_tensor(const std::string& name, std::span<const float> v, std::vector<int64_t> shape, int64_t rows,
                          DType dt, Tensor* scale) {
  return testing::stored_rows(name, v, std::move(shape), rows, dt, scale);
}

inline vk::ModelView random_model(const AttentionMethod& method, DType dt, const ModelShape& s = {}) {
  HParams hp;
  hp.vocab_size = s.vocab;
  hp.n_embd = s.C;
  hp.n_head = s.H;
  hp.n_layer = s.layers;
  hp.block_size = 512;
  hp.pmem_size = s.slots;
  hp.pmem_count = 1;
  hp.method = method;
  hp.logit_scale = float(1.0 / std::sqrt(double(s.C)));
  quant::RandomModelOptions options;
  options.seed = 42;
  const ConvertedModel model = quant::make_random_model(hp, options);
  auto values = [&](const std::string& name) { return quant::find_in(model.tensors, name)->as<float>(); };
  auto heads = [&](const std::string& name) {
    std::span<const float> v = values(name);
    return std::vector<float>(v.begin(), v.end());
  };
  auto matrix = [&](const std::string& name) {
    Matrix m;
    m.rows = m.cols = s.C;
    if (name == "token_embd") m.rows = s.vocab;
    m.weight = rows_tensor(name, values(name + ".weight"), {m.rows, m.cols}, m.rows, dt, &m.scale);
    return m;
  };
  auto norm = [&](const std::string& name) {
    Norm n;
    n.weight = *quant::find_in(model.tensors, name + ".weight");
    return n;
  };
  vk::ModelView m;
  m.hp = model.hparams;
  m.token_embd = matrix("token_embd");
  m.output = m.token_embd;
  m.output_norm = norm("output_norm");
  const int64_t d = s.C / s.H;
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights w;
    w.attn_norm = norm(p + "attn_norm");
    w.attn_k = matrix(p + "attn_k");
    w.attn_v = matrix(p + "attn_v");
    w.attn_out = matrix(p + "attn_output");
    w.attn_key_decay = heads(p + "attn_key_decay");
    w.attn_key_scale = heads(p + "attn_key_scale");
    w.attn_value_scale = heads(p + "attn_value_scale");
    w.attn_value_mix = heads(p + "attn_value_mix");
    w.pmem_norm = norm(p + "pmem_norm");
    w.pmem_k = matrix(p + "pmem_k");
    w.pmem_out = matrix(p + "pmem_output");
    w.pmem_key_decay = heads(p + "pmem_key_decay");
    w.pmem_query_scale = heads(p + "pmem_query_scale");
    w.pmem_value_scale = heads(p + "pmem_value_scale");
    const std::vector<int64_t> slots = {1, s.H, s.slots, d};
    w.pmem_mem_k =
        rows_tensor(p + "pmem_mem_k", values(p + "pmem_mem_k"), slots, s.H * s.slots, dt, &w.pmem_mem_k_scale);
    w.pmem_mem_v =
        rows_tensor(p + "pmem_mem_v", values(p + "pmem_mem_v"), slots, s.H * s.slots, dt, &w.pmem_mem_v_scale);
    m.layers.push_back(std::move(w));
  }
  return m;
}

}  // namespace tessera::bench
