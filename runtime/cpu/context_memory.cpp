#include "cpu/context_memory.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/attention_row.h"
#include "cpu/parallel_linear.h"
#include "ops/leaky_average.h"
#include "ops/linear.h"

namespace tessera::cpu {

void ContextMemoryState::init(int64_t C, int64_t capacity) {
  key_state.assign(size_t(C), 0.0);
  prev_value_proj.assign(size_t(C), 0.0f);
  keys.assign(size_t(C * capacity), 0.0f);
  values.assign(size_t(C * capacity), 0.0f);
}

void ContextMemoryState::reset() {
  std::fill(key_state.begin(), key_state.end(), 0.0);
  std::fill(prev_value_proj.begin(), prev_value_proj.end(), 0.0f);
}

void ContextMemoryScratch::init(const HParams& hp, int64_t capacity, int threads) {
  const size_t C = size_t(hp.n_embd), n = size_t(std::max<int64_t>(capacity, 1));
  u.assign(C, 0.0f);
  w.assign(C, 0.0f);
  o.assign(C, 0.0f);
  heads.resize(size_t(std::max(threads, 1)));
  for (HeadScratch& h : heads) {
    h.scores.assign(n, 0.0f);
    h.probs.assign(n, 0.0f);
    h.cos.assign(n, 0.0);
    h.mix.assign(size_t(hp.head_dim()), 0.0);
    h.transform.assign(ops::attention_scratch_floats(hp.method, n), 0.0f);
  }
}

ContextMemory::ContextMemory(const FloatWeights& weights, int64_t layer)
    : hp_(weights.hparams()),
      w_(weights.layer(layer)),
      lw_(weights.model().layer(layer)),
      transform_(row_transform_for(weights.hparams().method)) {}

void ContextMemory::step(ThreadPool& pool, ContextMemoryState& st, ContextMemoryScratch& sc, int64_t t, int64_t cap,
                         const float* h, float* out) const {
  const int64_t C = hp_.n_embd, H = hp_.n_head, d = hp_.head_dim();
  float* u = sc.u.data();
  float* w = sc.w.data();
  float* o = sc.o.data();

  // Key: leaky average of W_k h (current token included), unit-normalised per head.
  parallel_linear(pool, w_.attn_k, w_.attn_k_b, h, u, C, C);
  ops::leaky_average_step(st.key_state.data(), u, lw_.attn_key_decay.data(), H, d);
  // Unit keys go into the cache at row t of each head (u is free again: W_k h was consumed).
  std::vector<float>& keys = st.keys;
  ops::unit_keys(st.key_state.data(), hp_.l2_norm_eps, u, H, d);
  for (int64_t hd = 0; hd < H; ++hd)
    std::memcpy(&keys[size_t((hd * cap + t) * d)], u + hd * d, size_t(d) * sizeof(float));

  // Value: w_t = W_v h; v_{t-1} = scale · normalise((1 - c) w_t + c w_{t-1}) is finished now.
  parallel_linear(pool, w_.attn_v, w_.attn_v_b, h, w, C, C);
  if (t >= 1) {
    for (int64_t hd = 0; hd < H; ++hd) {
      const double c = lw_.attn_value_mix[size_t(hd)];
      double* m = sc.heads[0].mix.data();
      double ss = 0;
      for (int64_t i = 0; i < d; ++i) {
        const int64_t ch = hd * d + i;
        m[i] = (1.0 - c) * double(w[ch]) + c * double(st.prev_value_proj[size_t(ch)]);
        ss += m[i] * m[i];
      }
      const double norm = std::sqrt(ss) + double(hp_.l2_norm_eps);
      const double scale = norm > 0 ? double(lw_.attn_value_scale[size_t(hd)]) / norm : 0.0;
      float* v = &st.values[size_t((hd * cap + (t - 1)) * d)];
      for (int64_t i = 0; i < d; ++i) v[i] = float(m[i] * scale);
    }
  }
  std::memcpy(st.prev_value_proj.data(), w, size_t(C) * sizeof(float));

  // Attention: query t over keys j <= t - mask_offset (diagonal excluded: v_j contains x_{j+1}).
  const int64_t n = t - hp_.mask_offset + 1;
  std::fill(o, o + C, 0.0f);
  if (n > 0) {
    pool.run(H, [&](int chunk, int64_t h0, int64_t h1) {
      HeadScratch& hs = sc.heads[size_t(chunk)];
      for (int64_t hd = h0; hd < h1; ++hd) {
        const float* kh = &keys[size_t(hd * cap * d)];
        const float* q = kh + t * d;
        for (int64_t j = 0; j < n; ++j) hs.cos[size_t(j)] = ops::dot_f64(q, kh + j * d, d);
        const double beta = lw_.attn_key_scale[size_t(hd)];
        make_scores(hp_.method, beta * beta, hs.cos.data(), n, hs.scores.data());
        ops::attention_transform(transform_, hs.scores.data(), hs.probs.data(), size_t(n), nullptr,
                                 hs.transform.data());
        const float* vh = &st.values[size_t(hd * cap * d)];
        float* oh = o + hd * d;
        for (int64_t j = 0; j < n; ++j) {
          const float p = hs.probs[size_t(j)];
          if (p == 0.0f) continue;  // sparse transforms: most rows are mostly zeros
          const float* v = vh + j * d;
          for (int64_t i = 0; i < d; ++i) oh[i] += p * v[i];
        }
      }
    });
  }
  parallel_linear(pool, w_.attn_out, w_.attn_out_b, o, out, C, C);
}

}  // namespace tessera::cpu
