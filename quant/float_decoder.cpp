// float64 cached decoder (see float_decoder.h). Contextual attention: softmax in float64; the other
// transforms through the float runtime's own scores + ops::attention_transform (float32 rows), which
// is precise enough for calibration and as the int8 tests' reference.
#include "quant/float_decoder.h"

#include <algorithm>
#include <cmath>

#include "cpu/attention_row.h"
#include "ops/attention_transform.h"

namespace tessera::quant {

FloatDecoder::FloatDecoder(const FloatModel& m) : m_(m) { reset(); }

void FloatDecoder::reset() {
  t_ = 0;
  const size_t C = size_t(m_.hp.n_embd);
  state_.assign(
      size_t(m_.hp.n_layer),
      LayerState{std::vector<double>(C, 0.0), std::vector<double>(C, 0.0), std::vector<double>(C, 0.0), {}, {}});
}

void FloatDecoder::layernorm(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b,
                             std::vector<double>& out) const {
  const size_t n = x.size();
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= double(n);
  for (double v : x) var += (v - mean) * (v - mean);
  var /= double(n);
  const double inv = 1.0 / std::sqrt(var + m_.hp.layer_norm_eps);
  out.resize(n);
  for (size_t i = 0; i < n; ++i) out[i] = (x[i] - mean) * inv * (w.empty() ? 1.0 : w[i]) + (b.empty() ? 0.0 : b[i]);
}

void FloatDecoder::matvec(const FloatMatrix& m, const std::vector<double>& x, std::vector<double>& y) const {
  y.assign(size_t(m.rows), 0.0);
  for (int64_t r = 0; r < m.rows; ++r) {
    double acc = m.b.empty() ? 0.0 : m.b[size_t(r)];
    const float* w = m.w.data() + r * m.cols;
    for (int64_t c = 0; c < m.cols; ++c) acc += double(w[c]) * x[size_t(c)];
    y[size_t(r)] = acc;
  }
}

void FloatDecoder::unit_heads(std::vector<double>& v) const {
  const int64_t H = m_.hp.n_head, d = m_.hp.head_dim();
  for (int64_t h = 0; h < H; ++h) {
    double n2 = 0;
    for (int64_t i = 0; i < d; ++i) n2 += v[size_t(h * d + i)] * v[size_t(h * d + i)];
    const double norm = std::sqrt(n2) + m_.hp.l2_norm_eps;
    for (int64_t i = 0; i < d; ++i) v[size_t(h * d + i)] = norm > 0 ? v[size_t(h * d + i)] / norm : 0.0;
  }
}

const std::vector<double>& FloatDecoder::step(int32_t token, ActivationObserver* obs) {
  const HParams& hp = m_.hp;
  const int64_t C = hp.n_embd, H = hp.n_head, d = hp.head_dim(), N = hp.pmem_size, P = hp.pmem_count;
  const int64_t t = t_;
  std::vector<double> x(m_.embd.w.begin() + token * C, m_.embd.w.begin() + (token + 1) * C);
  if (obs) obs->residual(x.data(), C);
  std::vector<double> h, u, w, y, scores, p;
  std::vector<double> o(static_cast<size_t>(C));
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const FloatLayer& L = m_.layers[size_t(l)];
    LayerState& S = state_[size_t(l)];
    auto site = [&](Site s, std::vector<double>& v) {
      if (obs) obs->layer_site(l, s, v.data(), int64_t(v.size()));
    };
    layernorm(x, L.ln1_w, L.ln1_b, h);
    site(Site::kH1, h);
    matvec(L.k, h, u);
    site(Site::kU, u);
    for (int64_t i = 0; i < C; ++i) {
      const double a = L.key_decay[size_t(i / d)];
      S.key_state[size_t(i)] = a * S.key_state[size_t(i)] + (1 - a) * u[size_t(i)];
    }
    std::vector<double> key = S.key_state;
    unit_heads(key);
    S.keys.push_back(key);
    matvec(L.v, h, w);
    site(Site::kW, w);
    if (t >= 1) {
      std::vector<double> v(static_cast<size_t>(C));
      for (int64_t i = 0; i < C; ++i) {
        const double c = L.value_mix[size_t(i / d)];
        v[size_t(i)] = (1 - c) * w[size_t(i)] + c * S.w_prev[size_t(i)];
      }
      unit_heads(v);
      for (int64_t i = 0; i < C; ++i) v[size_t(i)] *= L.value_scale[size_t(i / d)];
      S.values.push_back(v);
    }
    S.w_prev = w;
    const int64_t n_keys = t - hp.mask_offset + 1;
    std::fill(o.begin(), o.end(), 0.0);
    const bool softmax = hp.method.kind == AttentionKind::kSoftmax;
    for (int64_t hh = 0; hh < H && n_keys > 0; ++hh) {
      const double b2 = double(L.key_scale[size_t(hh)]) * L.key_scale[size_t(hh)];
      scores.assign(size_t(n_keys), 0.0);
      for (int64_t j = 0; j < n_keys; ++j) {
        double dot = 0;
        for (int64_t i = 0; i < d; ++i) dot += key[size_t(hh * d + i)] * S.keys[size_t(j)][size_t(hh * d + i)];
        scores[size_t(j)] = dot;  // cos
      }
      if (softmax) {
        double mx = -1e300, z = 0;
        for (double& s : scores) mx = std::max(mx, s *= b2);
        for (double& s : scores) z += (s = std::exp(s - mx));
        for (double& s : scores) s /= z;
      } else {
        const size_t nk = static_cast<size_t>(n_keys);
        std::vector<float> f(nk), pf(nk), scratch(ops::attention_scratch_floats(hp.method, nk) + 1);
        cpu::make_scores(hp.method, b2, scores.data(), n_keys, f.data());
        ops::attention_transform(cpu::row_transform_for(hp.method), f.data(), pf.data(), size_t(n_keys), nullptr,
                                 scratch.data());
        for (int64_t j = 0; j < n_keys; ++j) scores[size_t(j)] = pf[size_t(j)];
      }
      for (int64_t j = 0; j < n_keys; ++j)
        for (int64_t i = 0; i < d; ++i)
          o[size_t(hh * d + i)] += scores[size_t(j)] * S.values[size_t(j)][size_t(hh * d + i)];
    }
    site(Site::kO, o);
    matvec(L.o, o, y);
    for (int64_t i = 0; i < C; ++i) x[size_t(i)] += y[size_t(i)];
    if (obs) obs->residual(x.data(), C);
    if (hp.attn_only) continue;
    layernorm(x, L.ln2_w, L.ln2_b, h);
    site(Site::kH2, h);
    matvec(L.pk, h, u);
    site(Site::kU2, u);
    for (int64_t i = 0; i < C; ++i) {
      const double a = L.pmem_decay[size_t(i / d)];
      S.pmem_state[size_t(i)] = a * S.pmem_state[size_t(i)] + (1 - a) * u[size_t(i)];
    }
    std::vector<double> q = S.pmem_state;
    unit_heads(q);
    std::vector<double> r(static_cast<size_t>(C), 0.0);
    for (int64_t pp = 0; pp < P; ++pp)
      for (int64_t hh = 0; hh < H; ++hh) {
        const float* mk = L.mem_k.data() + ((pp * H + hh) * N) * d;
        const float* mv = L.mem_v.data() + ((pp * H + hh) * N) * d;
        const double qs = L.pmem_query_scale[size_t(hh)];
        scores.assign(size_t(N), 0.0);
        double mx = -1e300;
        for (int64_t n = 0; n < N; ++n) {
          double dot = 0;
          for (int64_t i = 0; i < d; ++i) dot += qs * q[size_t(hh * d + i)] * mk[n * d + i];
          scores[size_t(n)] = dot;
          mx = std::max(mx, dot);
        }
        double z = 0;
        for (double& s : scores) z += (s = std::exp(s - mx));
        for (int64_t n = 0; n < N; ++n)
          for (int64_t i = 0; i < d; ++i) r[size_t(hh * d + i)] += scores[size_t(n)] / z * mv[n * d + i] / double(P);
      }
    for (int64_t i = 0; i < C; ++i) r[size_t(i)] *= L.pmem_value_scale[size_t(i / d)];
    site(Site::kR, r);
    matvec(L.po, r, y);
    for (int64_t i = 0; i < C; ++i) x[size_t(i)] += y[size_t(i)];
    if (obs) obs->residual(x.data(), C);
  }
  ++t_;
  layernorm(x, m_.out_w, m_.out_b, h);
  if (obs) obs->final_norm(h.data(), C);
  matvec(m_.output, h, logits_);
  const double ls = m_.folded ? 1.0 : (hp.logit_scale > 0 ? hp.logit_scale : 1.0 / std::sqrt(double(C)));
  for (double& v : logits_) v *= ls;
  if (obs) obs->logits(logits_.data(), int64_t(logits_.size()));
  return logits_;
}

}  // namespace tessera::quant
