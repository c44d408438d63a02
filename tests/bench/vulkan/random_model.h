// A GPT-2-small-sized Memory Mosaics model with random weights, built in memory (no GGUF needed):
// 12 layers, C = 768, 12 heads, N = 2688 slots, vocab 50304; matrices F16 or I8 (per-row scales).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "vulkan/model_view.h"

namespace tessera::bench {

struct ModelShape {
  int64_t vocab = 50304, C = 768, H = 12, layers = 12, slots = 2688;
};

inline Tensor random_matrix_tensor(const std::string& name, int64_t rows, int64_t cols, DType dt, std::mt19937& rng,
                                   Tensor* scale) {
  std::normal_distribution<float> g(0.0f, 1.0f / std::sqrt(float(cols)));
  const size_t n = size_t(rows * cols);
  if (dt == DType::kI8) {
    std::vector<std::byte> q(n);
    std::uniform_int_distribution<int> u(-127, 127);
    for (auto& b : q) b = std::byte(int8_t(u(rng)));
    std::vector<float> s(static_cast<size_t>(rows), 1.0f / (127.0f * std::sqrt(float(cols)) / 2.0f));
    *scale = make_f32_tensor(name + ".scale", {rows}, s);
    return make_owned_tensor(name, DType::kI8, {rows, cols}, std::move(q));
  }
  std::vector<std::byte> h(n * 2);
  for (size_t i = 0; i < n; ++i) {
    uint16_t v = float_to_half(g(rng));
    std::memcpy(h.data() + 2 * i, &v, 2);
  }
  return make_owned_tensor(name, DType::kF16, {rows, cols}, std::move(h));
}

inline Matrix random_matrix(const std::string& name, int64_t rows, int64_t cols, DType dt, std::mt19937& rng) {
  Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.weight = random_matrix_tensor(name, rows, cols, dt, rng, &m.scale);
  return m;
}

inline std::vector<float> uniform(size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// [1, H, N, d] slots from float values: F16, or I8 with one scale per slot (max |v| / 127).
inline Tensor slot_tensor(const std::string& name, const std::vector<float>& v, int64_t H, int64_t N, int64_t d,
                          DType dt, Tensor* scale) {
  if (dt == DType::kF16) {
    std::vector<std::byte> h(v.size() * 2);
    for (size_t i = 0; i < v.size(); ++i) {
      uint16_t x = float_to_half(v[i]);
      std::memcpy(h.data() + 2 * i, &x, 2);
    }
    return make_owned_tensor(name, DType::kF16, {1, H, N, d}, std::move(h));
  }
  if (dt == DType::kI8) {
    std::vector<std::byte> q(v.size());
    std::vector<float> sc(size_t(H * N));
    for (size_t slot = 0; slot < sc.size(); ++slot) {
      float mx = 1e-30f;
      for (int64_t i = 0; i < d; ++i) mx = std::max(mx, std::abs(v[slot * size_t(d) + size_t(i)]));
      sc[slot] = mx / 127.0f;
      for (int64_t i = 0; i < d; ++i) {
        size_t e = slot * size_t(d) + size_t(i);
        q[e] = std::byte(int8_t(std::lround(v[e] / sc[slot])));
      }
    }
    *scale = make_f32_tensor(name + ".scale", {1, H, N}, sc);
    return make_owned_tensor(name, DType::kI8, {1, H, N, d}, std::move(q));
  }
  return make_f32_tensor(name, {1, H, N, d}, v);
}

inline vk::ModelView random_model(const AttentionMethod& method, DType dt, const ModelShape& s = {}) {
  std::mt19937 rng(42);
  vk::ModelView m;
  HParams& hp = m.hp;
  hp.vocab_size = s.vocab;
  hp.n_embd = s.C;
  hp.n_head = s.H;
  hp.n_layer = s.layers;
  hp.block_size = 512;
  hp.pmem_size = s.slots;
  hp.pmem_count = 1;
  hp.method = method;
  hp.logit_scale = float(1.0 / std::sqrt(double(s.C)));
  m.token_embd = random_matrix("token_embd", s.vocab, s.C, dt, rng);
  m.output = m.token_embd;
  const size_t H = size_t(s.H), d = size_t(s.C / s.H);
  for (int64_t l = 0; l < s.layers; ++l) {
    LayerWeights w;
    w.attn_k = random_matrix("k", s.C, s.C, dt, rng);
    w.attn_v = random_matrix("v", s.C, s.C, dt, rng);
    w.attn_out = random_matrix("o", s.C, s.C, dt, rng);
    w.pmem_k = random_matrix("pk", s.C, s.C, dt, rng);
    w.pmem_out = random_matrix("po", s.C, s.C, dt, rng);
    w.attn_key_decay = uniform(H, rng, 0.0f, 0.9f);
    w.attn_key_scale = uniform(H, rng, 1.4f, 7.7f);  // β² in [2, 60]
    w.attn_value_scale = uniform(H, rng, 0.8f, 1.2f);
    w.attn_value_mix = uniform(H, rng, -0.2f, 1.2f);
    w.pmem_key_decay = uniform(H, rng, 0.0f, 0.9f);
    w.pmem_query_scale = uniform(H, rng, 2.0f, 20.0f);
    w.pmem_value_scale = uniform(H, rng, 0.8f, 1.2f);
    std::vector<float> mk = uniform(H * size_t(s.slots) * d, rng, -1.0f, 1.0f);
    std::vector<float> mv = uniform(H * size_t(s.slots) * d, rng, -1.0f, 1.0f);
    // Slots in the matrices' type, as tools/quantize writes them (F16, or I8 with a scale per slot).
    w.pmem_mem_k = slot_tensor("mk", mk, s.H, s.slots, int64_t(d), dt, &w.pmem_mem_k_scale);
    w.pmem_mem_v = slot_tensor("mv", mv, s.H, s.slots, int64_t(d), dt, &w.pmem_mem_v_scale);
    m.layers.push_back(std::move(w));
  }
  return m;
}

}  // namespace tessera::bench
