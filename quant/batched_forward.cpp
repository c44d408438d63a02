// Batched float32 forward pass (see batched_forward.h). The equations are docs/model.md's; the
// recurrences (leaky averages) and the LayerNorm/unit-vector normalisations keep double accumulators
// as the float runtime does; the matrix products, attention and persistent-memory reads run in float32.
#include "quant/batched_forward.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "cpu/attention_row.h"
#include "ops/attention_transform.h"
#include "quant/batched_matmul.h"
#include "quant/pmem_read.h"
#include "quant/quantize_tensor.h"

namespace tessera::quant {

namespace {

std::vector<float> to_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// Output rows per block: one block of W stays in cache while every position streams past it.
constexpr int64_t kRowBlock = 32;

void layer_norm_row(const float* x, const std::vector<double>& w, const std::vector<double>& b, double eps, float* out,
                    int64_t n) {
  double mean = 0, var = 0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= double(n);
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= double(n);
  const double inv = 1.0 / std::sqrt(var + eps);
  for (int64_t i = 0; i < n; ++i)
    out[i] = float((x[i] - mean) * inv * (w.empty() ? 1.0 : w[size_t(i)]) + (b.empty() ? 0.0 : b[size_t(i)]));
}

// Unit vector per head (norm + eps), from double to float.
void unit_heads(const double* v, int64_t H, int64_t d, double eps, float* out) {
  for (int64_t h = 0; h < H; ++h) {
    double n2 = 0;
    for (int64_t i = 0; i < d; ++i) n2 += v[h * d + i] * v[h * d + i];
    const double norm = std::sqrt(n2) + eps;
    for (int64_t i = 0; i < d; ++i) out[h * d + i] = norm > 0 ? float(v[h * d + i] / norm) : 0.0f;
  }
}

typedef float v4f __attribute__((vector_size(16)));

// Σ a_i b_i in float32, four lanes then the tail, inlined: the attention dots have only d (16..64)
// terms, where a call per dot costs as much as the arithmetic. The order depends only on n.
inline float dot_f32(const float* a, const float* b, int64_t n) {
  v4f acc = {};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v4f x, y;
    std::memcpy(&x, a + i, sizeof x);
    std::memcpy(&y, b + i, sizeof y);
    acc += x * y;
  }
  float s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

// The biases in float32; the matrices are read from the model itself (float32 already).
struct BatchedForward::Layer {
  std::vector<float> kb, vb, ob, pkb, pob;
};

struct BatchedForward::Weights {
  std::vector<float> output_b;
  std::vector<Layer> layers;
};

// Scratch of one worker, reused by every run (sized on first use).
struct BatchedForward::Scratch {
  std::vector<float> x, h, u, w, keys, values, o, y, q, r;
  std::vector<float> fk, fv, fo, fpk, fpo, fout;  // fake-quantized weights of one run
  std::vector<double> row;                        // one site row for the observer
  std::vector<float> pq, pmk, pmv, pmkt;          // persistent memory
};

BatchedForward::BatchedForward(const FloatModel& folded, int threads)
    : m_(folded), pool_(std::max(threads, 1)), w_(std::make_unique<Weights>()) {
  for (int i = 0; i < pool_.threads(); ++i) scratch_.push_back(std::make_unique<Scratch>());
  w_->output_b = to_float(folded.output.b);
  for (const FloatLayer& L : folded.layers) {
    Layer f;
    f.kb = to_float(L.k.b), f.vb = to_float(L.v.b), f.ob = to_float(L.o.b);
    f.pkb = to_float(L.pk.b), f.pob = to_float(L.po.b);
    w_->layers.push_back(std::move(f));
  }
}

BatchedForward::~BatchedForward() = default;

int64_t BatchedForward::macs_per_token() const {
  const HParams& hp = m_.hp;
  const int64_t C = hp.n_embd;
  const int64_t per_layer = 3 * C * C + (hp.attn_only ? 0 : 2 * C * C + 2 * hp.pmem_count * hp.pmem_size * C);
  return hp.n_layer * per_layer + hp.vocab_size * C;
}

const float* BatchedForward::weight(const std::string& name, const std::vector<float>& w, int64_t rows,
                                    const WeightBitsFn* bits, std::vector<float>& scratch) const {
  const int b = bits ? (*bits)(name) : 0;
  if (b == 0) return w.data();
  scratch.resize(w.size());
  fake_quantize_rows_f32(w.data(), rows, int64_t(w.size()) / rows, b, scratch.data());
  return scratch.data();
}

template <class F>
void BatchedForward::split(bool parallel, int64_t n, F&& f) {
  if (parallel) {
    std::decay_t<F> chunk = f;
    pool_.run(n, std::move(chunk));
  } else {
    f(0, int64_t(0), n);
  }
}

void BatchedForward::project(bool parallel, const float* X, const float* W, const float* b, float* Y, int64_t T,
                             int64_t rows, int64_t cols) {
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  split(parallel, blocks, [&](int, int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t r0 = blk * kRowBlock;
      matmul_rows(X, W, b, Y, T, rows, r0, std::min(rows, r0 + kRowBlock), cols);
    }
  });
}

void BatchedForward::persistent_memory(Scratch& s, bool parallel, int64_t l, const WeightBitsFn* bits, int64_t T) {
  const HParams& hp = m_.hp;
  const FloatLayer& L = m_.layers[size_t(l)];
  const int64_t C = hp.n_embd, H = hp.n_head, d = hp.head_dim(), N = hp.pmem_size, P = hp.pmem_count;
  const int64_t slots = P * H * N;
  const double l2 = hp.l2_norm_eps;
  auto memory = [&](const char* n, const std::vector<float>& m, std::vector<float>& scratch) {
    return weight(block_name(l, n), m, slots, bits, scratch);
  };
  const float* Mk = memory("pmem_mem_k", L.mem_k, s.pmk);
  const float* Mv = memory("pmem_mem_v", L.mem_v, s.pmv);
  // M_k transposed per head ([P][H][d][N]): a position's N scores are then d vector updates over the slots.
  s.pmkt.resize(size_t(slots * d));
  for (int64_t g = 0; g < P * H; ++g)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < d; ++i) s.pmkt[size_t((g * d + i) * N + n)] = Mk[(g * N + n) * d + i];
  // Unit queries, [position][C]: the leaky average in double as the float runtime keeps it.
  s.pq.resize(size_t(T * C));
  {
    std::vector<double> state(size_t(C), 0.0);
    for (int64_t t = 0; t < T; ++t) {
      const float* u = s.u.data() + t * C;
      for (int64_t i = 0; i < C; ++i) {
        const double a = L.pmem_decay[size_t(i / d)];
        state[size_t(i)] = a * state[size_t(i)] + (1 - a) * u[i];
      }
      unit_heads(state.data(), H, d, l2, s.pq.data() + t * C);
    }
  }
  // Scores, softmax and the value mix in float32 with the row maximum subtracted first: the folded β'²
  // (up to ~2·10⁴) makes a score's float rounding ~10⁻³, which moves a softmax weight by 0.1 %, as the
  // float runtime's float32 keys and memories already do. Positions in groups (quant/pmem_read.h); a
  // position's result does not depend on its group, so neither on the thread count.
  const int64_t blocks = (T + kPmemReadBlock - 1) / kPmemReadBlock;
  split(parallel, blocks, [&](int, int64_t b0, int64_t b1) {
    std::vector<float> scores(static_cast<size_t>(kPmemReadBlock * N));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t t = b * kPmemReadBlock, n_pos = std::min(kPmemReadBlock, T - t);
      for (int64_t hh = 0; hh < H; ++hh) {
        float* acc = s.r.data() + t * C + hh * d;
        for (int64_t p = 0; p < n_pos; ++p) std::fill(acc + p * C, acc + p * C + d, 0.0f);
        for (int64_t pp = 0; pp < P; ++pp)
          pmem_read(s.pq.data() + t * C + hh * d, C, n_pos, float(L.pmem_query_scale[size_t(hh)]),
                    s.pmkt.data() + ((pp * H + hh) * d) * N, Mv + ((pp * H + hh) * N) * d, N, d, 1.0f / float(P),
                    scores.data(), acc, C);
      }
    }
  });
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < C; ++i) s.r[size_t(t * C + i)] *= float(L.pmem_value_scale[size_t(i / d)]);
}

void BatchedForward::report_site(Scratch& s, ActivationObserver* obs, int64_t layer, Site site, float* rows, int64_t T,
                                 int64_t n) {
  if (!obs) return;
  std::vector<double>& row = s.row;
  row.resize(size_t(n));
  for (int64_t t = 0; t < T; ++t) {
    float* v = rows + t * n;
    for (int64_t i = 0; i < n; ++i) row[size_t(i)] = v[i];
    if (layer < 0) obs->final_norm(row.data(), n);
    else obs->layer_site(layer, site, row.data(), n);
    for (int64_t i = 0; i < n; ++i) v[i] = float(row[size_t(i)]);
  }
}

void BatchedForward::run(const std::vector<int32_t>& tokens, const ForwardRun& opt, std::vector<float>& logits) {
  run_with(*scratch_[0], true, tokens, opt, logits);
}

void BatchedForward::run_on(int worker, const std::vector<int32_t>& tokens, const ForwardRun& opt,
                            std::vector<float>& logits) {
  run_with(*scratch_[size_t(worker)], false, tokens, opt, logits);
}

void BatchedForward::for_each(int64_t n, const std::function<void(int64_t, int)>& job) {
  // Each worker takes the next i when it is free (sequences differ in length, so fixed halves would leave
  // one thread waiting); which worker computes an i does not change its result.
  std::atomic<int64_t> next{0};
  pool_.run(pool_.threads(), [&](int worker, int64_t, int64_t) {
    for (int64_t i = next++; i < n; i = next++) job(i, worker);
  });
}

void BatchedForward::run_with(Scratch& s, bool parallel, const std::vector<int32_t>& tokens, const ForwardRun& opt,
                              std::vector<float>& logits) {
  const HParams& hp = m_.hp;
  const int64_t T = int64_t(tokens.size()), C = hp.n_embd, H = hp.n_head, d = hp.head_dim();
  const int64_t V = hp.vocab_size;
  const size_t TC = size_t(T * C);
  const Weights& W = *w_;
  ActivationObserver* obs = opt.observer;
  for (auto* buf : {&s.x, &s.h, &s.u, &s.w, &s.keys, &s.values, &s.o, &s.y, &s.q, &s.r}) buf->resize(TC);
  float* x = s.x.data();
  auto residual = [&] {
    if (obs)
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double>& row = s.row;
        row.assign(x + t * C, x + (t + 1) * C);
        obs->residual(row.data(), C);
      }
  };
  auto restore = [&](int64_t point, float* to) {
    std::memcpy(to, (*opt.start)[size_t(point)].data(), TC * sizeof(float));
  };
  auto keep = [&](int64_t point, const float* from) {
    if (opt.keep) (*opt.keep)[size_t(point)].assign(from, from + TC);
  };
  const int64_t first_layer = opt.first_point / kStagesPerLayer;
  if (opt.first_point > 0) {
    restore(restart_point(first_layer, Stage::kLayerInput), x);
  } else {
    // Per-row scales: fake-quantizing only the rows looked up gives the whole table's values.
    const int embd_bits = opt.weight_bits ? (*opt.weight_bits)("token_embd.weight") : 0;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t tok = tokens[size_t(t)];
      if (embd_bits) fake_quantize_rows_f32(m_.embd.w.data() + tok * C, 1, C, embd_bits, x + t * C);
      else std::memcpy(x + t * C, m_.embd.w.data() + tok * C, size_t(C) * sizeof(float));
    }
    residual();
  }
  if (opt.keep) opt.keep->resize(size_t(restart_point(hp.n_layer, Stage::kLayerInput) + 1));
  const double eps = hp.layer_norm_eps, l2 = hp.l2_norm_eps;
  const ops::RowTransform transform = cpu::row_transform_for(hp.method);
  const size_t scratch_floats = ops::attention_scratch_floats(hp.method, size_t(T)) + 1;
  for (int64_t l = first_layer; l < hp.n_layer; ++l) {
    const FloatLayer& L = m_.layers[size_t(l)];
    const Layer& F = W.layers[size_t(l)];
    // Where this layer starts: a restart inside the first layer skips the steps before its point.
    const int64_t stage = l == first_layer ? opt.first_point % kStagesPerLayer : 0;
    auto name = [l](const char* n) { return block_name(l, n); };
    keep(restart_point(l, Stage::kLayerInput), x);
    if (stage == int64_t(Stage::kLayerInput)) {
      const float* Wk = weight(name("attn_k.weight"), L.k.w, C, opt.weight_bits, s.fk);
      const float* Wv = weight(name("attn_v.weight"), L.v.w, C, opt.weight_bits, s.fv);
      for (int64_t t = 0; t < T; ++t) layer_norm_row(x + t * C, L.ln1_w, L.ln1_b, eps, s.h.data() + t * C, C);
      report_site(s, obs, l, Site::kH1, s.h.data(), T, C);
      project(parallel, s.h.data(), Wk, F.kb.empty() ? nullptr : F.kb.data(), s.u.data(), T, C, C);
      report_site(s, obs, l, Site::kU, s.u.data(), T, C);
      project(parallel, s.h.data(), Wv, F.vb.empty() ? nullptr : F.vb.data(), s.w.data(), T, C, C);
      report_site(s, obs, l, Site::kW, s.w.data(), T, C);
      {  // the recurrences run in position order, in double
        std::vector<double> state(size_t(C), 0.0), v(static_cast<size_t>(C));
        for (int64_t t = 0; t < T; ++t) {
          const float* u = s.u.data() + t * C;
          for (int64_t i = 0; i < C; ++i) {
            const double a = L.key_decay[size_t(i / d)];
            state[size_t(i)] = a * state[size_t(i)] + (1 - a) * u[i];
          }
          unit_heads(state.data(), H, d, l2, s.keys.data() + t * C);
          if (t >= 1) {  // values[t - 1]: the value finished at step t
            const float *w = s.w.data() + t * C, *wp = w - C;
            for (int64_t i = 0; i < C; ++i) {
              const double c = L.value_mix[size_t(i / d)];
              v[size_t(i)] = (1 - c) * w[i] + c * wp[i];
            }
            float* out = s.values.data() + (t - 1) * C;
            unit_heads(v.data(), H, d, l2, out);
            for (int64_t i = 0; i < C; ++i) out[i] = float(out[i] * L.value_scale[size_t(i / d)]);
          }
        }
      }
      split(parallel, T, [&](int, int64_t t0, int64_t t1) {
        std::vector<double> cos(static_cast<size_t>(T));
        std::vector<float> acc(static_cast<size_t>(d));
        std::vector<float> f(static_cast<size_t>(T)), pf(static_cast<size_t>(T)), scratch(scratch_floats);
        for (int64_t t = t0; t < t1; ++t) {
          float* o = s.o.data() + t * C;
          std::fill(o, o + C, 0.0f);
          const int64_t n_keys = t - hp.mask_offset + 1;
          for (int64_t hh = 0; hh < H && n_keys > 0; ++hh) {
            const double b2 = double(L.key_scale[size_t(hh)]) * L.key_scale[size_t(hh)];
            const float* key = s.keys.data() + t * C + hh * d;
            for (int64_t j = 0; j < n_keys; ++j) cos[size_t(j)] = dot_f32(key, s.keys.data() + j * C + hh * d, d);
            // The float runtime's scores (β² folded in double) and transform, softmax included.
            cpu::make_scores(hp.method, b2, cos.data(), n_keys, f.data());
            ops::attention_transform(transform, f.data(), pf.data(), size_t(n_keys), nullptr, scratch.data());
            std::fill(acc.begin(), acc.end(), 0.0f);
            float* a = acc.data();
            for (int64_t j = 0; j < n_keys; ++j) {
              const float p = pf[size_t(j)];
              if (p == 0.0f) continue;
              const float* vj = s.values.data() + j * C + hh * d;
              for (int64_t i = 0; i < d; ++i) a[i] += p * vj[i];
            }
            std::copy(acc.begin(), acc.end(), o + hh * d);
          }
        }
      });
    } else if (stage == int64_t(Stage::kAttentionOutput)) {
      restore(restart_point(l, Stage::kAttentionOutput), s.o.data());
    }
    if (stage <= int64_t(Stage::kAttentionOutput)) {
      keep(restart_point(l, Stage::kAttentionOutput), s.o.data());
      const float* Wo = weight(name("attn_output.weight"), L.o.w, C, opt.weight_bits, s.fo);
      report_site(s, obs, l, Site::kO, s.o.data(), T, C);
      project(parallel, s.o.data(), Wo, F.ob.empty() ? nullptr : F.ob.data(), s.y.data(), T, C, C);
      for (size_t i = 0; i < TC; ++i) x[i] += s.y[i];
      residual();
    }
    if (hp.attn_only) continue;
    if (stage >= int64_t(Stage::kPmemInput)) restore(restart_point(l, Stage::kPmemInput), x);
    keep(restart_point(l, Stage::kPmemInput), x);
    if (stage <= int64_t(Stage::kPmemInput)) {
      const float* Wpk = weight(name("pmem_k.weight"), L.pk.w, C, opt.weight_bits, s.fpk);
      for (int64_t t = 0; t < T; ++t) layer_norm_row(x + t * C, L.ln2_w, L.ln2_b, eps, s.h.data() + t * C, C);
      report_site(s, obs, l, Site::kH2, s.h.data(), T, C);
      project(parallel, s.h.data(), Wpk, F.pkb.empty() ? nullptr : F.pkb.data(), s.u.data(), T, C, C);
      report_site(s, obs, l, Site::kU2, s.u.data(), T, C);
      persistent_memory(s, parallel, l, opt.weight_bits, T);
    } else {
      restore(restart_point(l, Stage::kPmemOutput), s.r.data());
    }
    keep(restart_point(l, Stage::kPmemOutput), s.r.data());
    const float* Wpo = weight(name("pmem_output.weight"), L.po.w, C, opt.weight_bits, s.fpo);
    report_site(s, obs, l, Site::kR, s.r.data(), T, C);
    project(parallel, s.r.data(), Wpo, F.pob.empty() ? nullptr : F.pob.data(), s.y.data(), T, C, C);
    for (size_t i = 0; i < TC; ++i) x[i] += s.y[i];
    residual();
  }
  keep(restart_point(hp.n_layer, Stage::kLayerInput), x);
  for (int64_t t = 0; t < T; ++t) layer_norm_row(x + t * C, m_.out_w, m_.out_b, eps, s.h.data() + t * C, C);
  report_site(s, obs, -1, Site::kH1, s.h.data(), T, C);
  const float* Wout = weight("output.weight", m_.output.w, V, opt.weight_bits, s.fout);
  logits.resize(size_t(T * V));
  project(parallel, s.h.data(), Wout, W.output_b.empty() ? nullptr : W.output_b.data(), logits.data(), T, V, C);
  const double ls = m_.folded ? 1.0 : (hp.logit_scale > 0 ? hp.logit_scale : 1.0 / std::sqrt(double(C)));
  if (ls != 1.0)
    for (float& v : logits) v = float(v * ls);
  if (obs)
    for (int64_t t = 0; t < T; ++t) {
      s.row.assign(logits.begin() + t * V, logits.begin() + (t + 1) * V);
      obs->logits(s.row.data(), V);
    }
}

}  // namespace tessera::quant
