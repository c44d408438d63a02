// Batched float32 forward pass (see batched_forward.h). The equations are docs/model.md's; the
// recurrences (leaky averages) and the softmax/normalisation steps keep double accumulators as the
// float runtime does, the matrix products run in float32.
#include "quant/batched_forward.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "cpu/attention_row.h"
#include "ops/attention_transform.h"
#include "quant/batched_matmul.h"
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

// Σ a_i b_i in double over float inputs, inlined: the persistent-memory and attention dots have only
// d (16..64) terms, where a call per dot costs as much as the arithmetic.
inline double dot_double(const float* a, const float* b, int64_t n) {
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += double(a[i]) * double(b[i]);
  return acc;
}

// Softmax terms below e^-30 of the largest are left out (exp and the value mix): together they move
// the result by less than n·1e-13 relative, far below the float32 rounding of everything else. The
// exponentials themselves are float (1 ulp, 6e-8 relative) of the double shifted scores.
constexpr double kNegligibleExponent = -30.0;

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
  std::vector<float> fk, fv, fo, fpk, fpo, fout;           // fake-quantized weights of one run
  std::vector<double> row;                                 // one site row for the observer
  std::vector<double> dq, dr, scores, mix, dmk, dmv, mvt;  // persistent memory in double
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
  const int64_t V = hp.vocab_size, N = hp.pmem_size, P = hp.pmem_count;
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
  const bool softmax = hp.method.kind == AttentionKind::kSoftmax;
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
        std::vector<double> cos(static_cast<size_t>(T)), acc(static_cast<size_t>(d));
        std::vector<float> f(static_cast<size_t>(T)), pf(static_cast<size_t>(T)), scratch(softmax ? 0 : scratch_floats);
        for (int64_t t = t0; t < t1; ++t) {
          float* o = s.o.data() + t * C;
          std::fill(o, o + C, 0.0f);
          const int64_t n_keys = t - hp.mask_offset + 1;
          for (int64_t hh = 0; hh < H && n_keys > 0; ++hh) {
            const double b2 = double(L.key_scale[size_t(hh)]) * L.key_scale[size_t(hh)];
            const float* key = s.keys.data() + t * C + hh * d;
            for (int64_t j = 0; j < n_keys; ++j) cos[size_t(j)] = dot_double(key, s.keys.data() + j * C + hh * d, d);
            if (softmax) {
              double mx = -1e300, z = 0;
              for (int64_t j = 0; j < n_keys; ++j) mx = std::max(mx, cos[size_t(j)] *= b2);
              for (int64_t j = 0; j < n_keys; ++j) {
                const double e = cos[size_t(j)] - mx;
                z += (cos[size_t(j)] = e < kNegligibleExponent ? 0.0 : double(std::exp(float(e))));
              }
              for (int64_t j = 0; j < n_keys; ++j) cos[size_t(j)] /= z;
            } else {
              cpu::make_scores(hp.method, b2, cos.data(), n_keys, f.data());
              ops::attention_transform(transform, f.data(), pf.data(), size_t(n_keys), nullptr, scratch.data());
              for (int64_t j = 0; j < n_keys; ++j) cos[size_t(j)] = pf[size_t(j)];
            }
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int64_t j = 0; j < n_keys; ++j) {
              const double p = cos[size_t(j)];
              if (p == 0.0) continue;
              const float* vj = s.values.data() + j * C + hh * d;
              for (int64_t i = 0; i < d; ++i) acc[size_t(i)] += p * vj[i];
            }
            for (int64_t i = 0; i < d; ++i) o[hh * d + i] = float(acc[size_t(i)]);
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
      const int64_t slots = P * H * N;
      const float* Wpk = weight(name("pmem_k.weight"), L.pk.w, C, opt.weight_bits, s.fpk);
      // Keys, scores and the value mix in double: β'² up to e^10 turns float rounding of a dot into
      // visible error.
      s.dmk.assign(L.mem_k.begin(), L.mem_k.end());
      if (const int b = opt.weight_bits ? (*opt.weight_bits)(name("pmem_mem_k")) : 0)
        fake_quantize_rows(s.dmk.data(), slots, d, b);
      const double* Mk = s.dmk.data();
      // M_v transposed per head ([P][H][d][N]) so that the mix is a matrix product over the slots.
      {
        const int b = opt.weight_bits ? (*opt.weight_bits)(name("pmem_mem_v")) : 0;
        s.dmv.assign(L.mem_v.begin(), L.mem_v.end());
        if (b) fake_quantize_rows(s.dmv.data(), slots, d, b);
        const double* mv = s.dmv.data();
        s.mvt.resize(size_t(slots * d));
        for (int64_t g = 0; g < P * H; ++g)
          for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < d; ++i) s.mvt[size_t((g * d + i) * N + n)] = mv[(g * N + n) * d + i];
      }
      for (int64_t t = 0; t < T; ++t) layer_norm_row(x + t * C, L.ln2_w, L.ln2_b, eps, s.h.data() + t * C, C);
      report_site(s, obs, l, Site::kH2, s.h.data(), T, C);
      project(parallel, s.h.data(), Wpk, F.pkb.empty() ? nullptr : F.pkb.data(), s.u.data(), T, C, C);
      report_site(s, obs, l, Site::kU2, s.u.data(), T, C);
      s.dq.resize(TC);  // unit queries, [head][position][d]
      {
        std::vector<double> state(size_t(C), 0.0);
        for (int64_t t = 0; t < T; ++t) {
          const float* u = s.u.data() + t * C;
          for (int64_t i = 0; i < C; ++i) {
            const double a = L.pmem_decay[size_t(i / d)];
            state[size_t(i)] = a * state[size_t(i)] + (1 - a) * u[i];
          }
          for (int64_t hh = 0; hh < H; ++hh) {
            const double* v = state.data() + hh * d;
            double n2 = 0;
            for (int64_t i = 0; i < d; ++i) n2 += v[i] * v[i];
            const double norm = std::sqrt(n2) + l2;
            double* out = s.dq.data() + (hh * T + t) * d;
            for (int64_t i = 0; i < d; ++i) out[i] = norm > 0 ? v[i] / norm : 0.0;
          }
        }
      }
      s.dr.assign(TC, 0.0);
      s.scores.resize(size_t(T * N));
      s.mix.resize(size_t(T * d));
      for (int64_t pp = 0; pp < P; ++pp)
        for (int64_t hh = 0; hh < H; ++hh) {
          const double* mk = Mk + ((pp * H + hh) * N) * d;
          const double* mvt = s.mvt.data() + ((pp * H + hh) * d) * N;
          const double* q = s.dq.data() + hh * T * d;
          double* S = s.scores.data();
          double* Y = s.mix.data();
          split(parallel, (N + kRowBlock - 1) / kRowBlock, [&](int, int64_t b0, int64_t b1) {
            for (int64_t blk = b0; blk < b1; ++blk)
              matmul_rows(q, mk, nullptr, S, T, N, blk * kRowBlock, std::min(N, (blk + 1) * kRowBlock), d);
          });
          const double qs = L.pmem_query_scale[size_t(hh)];
          split(parallel, T, [&](int, int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t) {
              double* row = S + t * N;
              double mx = -1e300, z = 0;
              for (int64_t n = 0; n < N; ++n) mx = std::max(mx, row[n] *= qs);
              for (int64_t n = 0; n < N; ++n) {
                const double e = row[n] - mx;
                z += (row[n] = e < kNegligibleExponent ? 0.0 : double(std::exp(float(e))));
              }
              const double inv = 1.0 / (z * double(P));
              for (int64_t n = 0; n < N; ++n) row[n] *= inv;
            }
          });
          split(parallel, (d + 7) / 8, [&](int, int64_t b0, int64_t b1) {
            matmul_rows(S, mvt, nullptr, Y, T, d, b0 * 8, std::min(d, b1 * 8), N);
          });
          for (int64_t t = 0; t < T; ++t)
            for (int64_t i = 0; i < d; ++i) s.dr[size_t(t * C + hh * d + i)] += Y[t * d + i];
        }
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < C; ++i)
          s.r[size_t(t * C + i)] = float(s.dr[size_t(t * C + i)] * L.pmem_value_scale[size_t(i / d)]);
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
