#include "cpu/persistent_memory.h"

#include <algorithm>
#include <cmath>

#include "cpu/parallel_linear.h"
#include "ops/leaky_average.h"
#include "ops/linear.h"

namespace tessera::cpu {

void PersistentMemoryScratch::init(const HParams& hp, int threads) {
  u.assign(size_t(hp.n_embd), 0.0f);
  r.assign(size_t(hp.n_embd), 0.0f);
  acc.assign(size_t(std::max(threads, 1)), std::vector<double>(size_t(hp.head_dim()), 0.0));
  scores.assign(size_t(std::max(threads, 1)), std::vector<double>(size_t(std::max<int64_t>(hp.pmem_size, 1)), 0.0));
}

PersistentMemory::PersistentMemory(const FloatWeights& weights, int64_t layer)
    : hp_(weights.hparams()), w_(weights.layer(layer)), lw_(weights.model().layer(layer)) {}

void PersistentMemory::step(ThreadPool& pool, double* key_state, PersistentMemoryScratch& sc, const float* h,
                            float* out) const {
  const int64_t C = hp_.n_embd, H = hp_.n_head, d = hp_.head_dim(), N = hp_.pmem_size, P = hp_.pmem_count;
  float* u = sc.u.data();
  parallel_linear(pool, w_.pmem_k, w_.pmem_k_b, h, u, C, C);
  ops::leaky_average_step(key_state, u, lw_.pmem_key_decay.data(), H, d);
  // Both authors' files normalise the persistent-memory key without an epsilon.
  ops::unit_keys(key_state, 0.0f, u, H, d);
  pool.run(H, [&](int chunk, int64_t h0, int64_t h1) {
    std::vector<double>& scores = sc.scores[size_t(chunk)];
    std::vector<double>& acc = sc.acc[size_t(chunk)];
    for (int64_t hd = h0; hd < h1; ++hd) {
      const double qs = lw_.pmem_query_scale[size_t(hd)];
      const float* k = u + hd * d;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t p = 0; p < P; ++p) {
        const float* mk = w_.mem_k + ((p * H + hd) * N) * d;
        const float* mv = w_.mem_v + ((p * H + hd) * N) * d;
        // Scores reach β'²·|M_k| ≈ 10⁴ on clamped heads: softmax in double, shifted by the max.
        double mx = -INFINITY;
        for (int64_t n = 0; n < N; ++n) {
          const double s = qs * ops::dot_f64(k, mk + n * d, d);
          scores[size_t(n)] = s;
          mx = std::max(mx, s);
        }
        double sum = 0;
        for (int64_t n = 0; n < N; ++n) sum += (scores[size_t(n)] = std::exp(scores[size_t(n)] - mx));
        const double inv = 1.0 / (sum * double(P));
        for (int64_t n = 0; n < N; ++n) {
          const double pn = scores[size_t(n)] * inv;
          if (pn == 0.0) continue;
          for (int64_t i = 0; i < d; ++i) acc[size_t(i)] += pn * double(mv[n * d + i]);
        }
      }
      const double vs = lw_.pmem_value_scale[size_t(hd)];
      for (int64_t i = 0; i < d; ++i) sc.r[size_t(hd * d + i)] = float(acc[size_t(i)] * vs);
    }
  });
  parallel_linear(pool, w_.pmem_out, w_.pmem_out_b, sc.r.data(), out, C, C);
}

}  // namespace tessera::cpu
