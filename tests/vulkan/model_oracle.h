// A random tiny Memory Mosaics model as a Vulkan ModelView, with float64 copies of its weights for the
// float64 reference forward, used to check the Vulkan forward end to end.
#pragma once

#include <cmath>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "vk_test_util.h"
#include "vulkan/model_view.h"

namespace tessera::vk::test {

struct RandomModel {
  ModelView view;
  // float64 copies of every weight as the device sees it (after F16/I8 rounding).
  struct Mat {
    std::vector<double> w, b;
    int64_t rows = 0, cols = 0;
  };
  struct Layer {
    std::vector<double> ln1, ln2, ln1b, ln2b;  // biases empty unless hp.bias
    Mat k, v, o, pk, po;
    std::vector<double> decay, beta, vscale, mix, pdecay, pqscale, pvscale, memk, memv;
  };
  Mat embd;
  std::vector<double> ln_out;
  std::vector<Layer> layers;
};

inline RandomModel::Mat make_matrix(Matrix& m, int64_t rows, int64_t cols, DType dt, std::mt19937& rng, float range,
                                    bool bias, const std::string& name) {
  std::vector<float> w = random_floats(size_t(rows * cols), rng, -range, range);
  RandomModel::Mat out{std::vector<double>(w.begin(), w.end()), {}, rows, cols};
  m.rows = rows;
  m.cols = cols;
  if (dt == DType::kF16) {
    m.weight = f16_tensor(name, {rows, cols}, w);
    for (size_t i = 0; i < w.size(); ++i) out.w[i] = half_to_float(float_to_half(w[i]));
  } else if (dt == DType::kI8) {
    std::vector<int8_t> q(w.size());
    std::vector<float> sc(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      sc[size_t(r)] = range / 127.0f;
      for (int64_t c = 0; c < cols; ++c) {
        size_t i = size_t(r * cols + c);
        q[i] = int8_t(std::lround(w[i] / sc[size_t(r)]));
        out.w[i] = double(q[i]) * sc[size_t(r)];
      }
    }
    m.weight = i8_tensor(name, {rows, cols}, q);
    m.scale = f32_tensor(name + ".scale", {rows}, sc);
  } else {
    m.weight = f32_tensor(name, {rows, cols}, w);
  }
  if (bias) {
    std::vector<float> b = random_floats(size_t(rows), rng, -0.1f, 0.1f);
    m.bias = f32_tensor(name + ".bias", {rows}, b);
    out.b.assign(b.begin(), b.end());
  }
  return out;
}

inline std::vector<double> make_vec(std::vector<float>& dst, size_t n, std::mt19937& rng, float lo, float hi) {
  dst = random_floats(n, rng, lo, hi);
  return {dst.begin(), dst.end()};
}

// hp must have vocab, C, H, layers, pmem size/count, method, mask_offset, pre_ln, attn_only, bias set.
inline RandomModel make_random_model(HParams hp, DType dt, uint32_t seed) {
  std::mt19937 rng(seed);
  RandomModel m;
  const int64_t C = hp.n_embd, H = hp.n_head, d = C / H;
  hp.logit_scale = float(1.0 / std::sqrt(double(C)));
  m.view.hp = hp;
  m.embd = make_matrix(m.view.token_embd, hp.vocab_size, C, dt, rng, 1.0f, false, "token_embd");
  m.view.output = m.view.token_embd;  // tied
  std::vector<float> lnw = random_floats(size_t(C), rng, 0.5f, 1.5f);
  m.view.output_norm.weight = f32_tensor("output_norm", {C}, lnw);
  m.ln_out.assign(lnw.begin(), lnw.end());
  const float wr = float(1.0 / std::sqrt(double(C)));
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    LayerWeights w;
    RandomModel::Layer o;
    std::vector<float> tmp;
    o.ln1 = make_vec(tmp, size_t(C), rng, 0.5f, 1.5f);
    w.attn_norm.weight = f32_tensor("ln1", {C}, tmp);
    o.ln2 = make_vec(tmp, size_t(C), rng, 0.5f, 1.5f);
    w.pmem_norm.weight = f32_tensor("ln2", {C}, tmp);
    if (hp.bias) {
      o.ln1b = make_vec(tmp, size_t(C), rng, -0.2f, 0.2f);
      w.attn_norm.bias = f32_tensor("ln1.bias", {C}, tmp);
      o.ln2b = make_vec(tmp, size_t(C), rng, -0.2f, 0.2f);
      w.pmem_norm.bias = f32_tensor("ln2.bias", {C}, tmp);
    }
    o.k = make_matrix(w.attn_k, C, C, dt, rng, wr, hp.bias, "k");
    o.v = make_matrix(w.attn_v, C, C, dt, rng, wr, hp.bias, "v");
    o.o = make_matrix(w.attn_out, C, C, dt, rng, wr, hp.bias, "o");
    o.pk = make_matrix(w.pmem_k, C, C, dt, rng, wr, hp.bias, "pk");
    o.po = make_matrix(w.pmem_out, C, C, dt, rng, wr, hp.bias, "po");
    o.decay = make_vec(w.attn_key_decay, size_t(H), rng, 0.0f, 0.9f);
    o.beta = make_vec(w.attn_key_scale, size_t(H), rng, 1.4f, 7.7f);  // β² in [2, 60]
    o.vscale = make_vec(w.attn_value_scale, size_t(H), rng, 0.8f, 1.2f);
    o.mix = make_vec(w.attn_value_mix, size_t(H), rng, -0.2f, 1.2f);
    o.pdecay = make_vec(w.pmem_key_decay, size_t(H), rng, 0.0f, 0.9f);
    o.pqscale = make_vec(w.pmem_query_scale, size_t(H), rng, 2.0f, 20.0f);
    o.pvscale = make_vec(w.pmem_value_scale, size_t(H), rng, 0.8f, 1.2f);
    const int64_t slots = hp.pmem_count * H * hp.pmem_size * d;
    // Slots in the matrices' type (I8: one scale per slot), as tools/quantize writes them; the
    // oracle sees the rounded values. Same random draws as uniform [-1, 1] floats.
    Matrix mk, mv;
    o.memk = make_matrix(mk, slots / d, d, dt, rng, 1.0f, false, "mk").w;
    o.memv = make_matrix(mv, slots / d, d, dt, rng, 1.0f, false, "mv").w;
    w.pmem_mem_k = mk.weight;
    w.pmem_mem_k_scale = mk.scale;
    w.pmem_mem_v = mv.weight;
    w.pmem_mem_v_scale = mv.scale;
    m.view.layers.push_back(std::move(w));
    m.layers.push_back(std::move(o));
  }
  return m;
}

// logits [T, V] of the whole token sequence, float64: the tests' reference forward
// (tests/support/reference_forward.h) on the weights as the device sees them.
std::vector<double> oracle_forward(const RandomModel& m, const std::vector<int32_t>& tokens);

}  // namespace tessera::vk::test
