// A random float Memory Mosaics model shaped like the authors' fixtures (per-head scalars spread
// the same way: β² from 2 to 60 plus one head on the clamp e^10, decays over [0.1, 6], value scales,
// mixes outside [0, 1], LayerNorm gains in [0.5, 1.5]) for the int8 tests.
#pragma once

#include <cmath>
#include <random>

#include "quant/float_model.h"

namespace tessera::testing_int8 {

inline quant::FloatModel random_float_model(int64_t V, int64_t C, int64_t H, int64_t L, int64_t N, uint64_t seed,
                                            bool with_biases = false, bool clamp_heads = true) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  std::normal_distribution<double> nd(0.0, 1.0);
  auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * u01(rng); };
  quant::FloatModel m;
  HParams& hp = m.hp;
  hp.vocab_size = V;
  hp.n_embd = C;
  hp.n_head = H;
  hp.n_layer = L;
  hp.block_size = 64;
  hp.pmem_size = N;
  hp.pmem_count = 1;
  hp.logit_scale = float(1.0 / std::sqrt(double(C)));
  const int64_t d = C / H;
  auto matrix = [&](int64_t rows, int64_t cols, double bound) {
    quant::FloatMatrix x;
    x.rows = rows;
    x.cols = cols;
    for (int64_t i = 0; i < rows * cols; ++i) x.w.push_back(uniform(-bound, bound));
    if (with_biases)
      for (int64_t i = 0; i < rows; ++i) x.b.push_back(uniform(-0.1, 0.1));
    return x;
  };
  auto heads = [&](double lo, double hi) {
    std::vector<double> v;
    for (int64_t h = 0; h < H; ++h) v.push_back(uniform(lo, hi));
    return v;
  };
  auto gains = [&]() {
    std::vector<double> g;
    for (int64_t c = 0; c < C; ++c) g.push_back(uniform(0.5, 1.5));
    return g;
  };
  auto offsets = [&]() {
    std::vector<double> b;
    if (with_biases)
      for (int64_t c = 0; c < C; ++c) b.push_back(uniform(-0.2, 0.2));
    return b;
  };
  m.embd = matrix(V, C, 0);
  for (float& w : m.embd.w) w = float(nd(rng));
  m.embd.b.clear();
  m.out_w = gains();
  m.out_b = offsets();
  m.output = m.embd;
  const double bound = 1.0 / std::sqrt(double(C));
  for (int64_t l = 0; l < L; ++l) {
    quant::FloatLayer y;
    y.ln1_w = gains();
    y.ln1_b = offsets();
    y.k = matrix(C, C, bound);
    y.v = matrix(C, C, bound);
    y.o = matrix(C, C, bound);
    for (double lambda : heads(0.1, 6.0)) y.key_decay.push_back(std::exp(-lambda));
    for (double b2 : heads(2.0, 60.0)) y.key_scale.push_back(std::sqrt(b2));
    if (clamp_heads) y.key_scale[size_t(l % H)] = std::exp(5.0);  // the clamp: β² = e^10
    for (double vb : heads(-0.2, 0.1)) y.value_scale.push_back(std::exp(10 * vb));
    y.value_mix = heads(-0.2, 1.2);
    y.ln2_w = gains();
    y.ln2_b = offsets();
    y.pk = matrix(C, C, bound);
    y.po = matrix(C, C, bound);
    for (double lambda : heads(0.1, 6.0)) y.pmem_decay.push_back(std::exp(-lambda));
    y.pmem_query_scale = heads(2.0, 60.0);
    if (clamp_heads) y.pmem_query_scale[size_t((l + 1) % H)] = std::exp(10.0);
    for (double vb : heads(-0.2, 0.1)) y.pmem_value_scale.push_back(std::exp(10 * vb));
    for (int64_t i = 0; i < H * N * d; ++i) {
      y.mem_k.push_back(nd(rng) / std::sqrt(double(d)));
      y.mem_v.push_back(nd(rng) / std::sqrt(double(d)));
    }
    m.layers.push_back(std::move(y));
  }
  return m;
}

}  // namespace tessera::testing_int8
