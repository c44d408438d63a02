// The float64 Memory Mosaics forward pass of the tests, written straight from docs/model.md as a full
// recompute over all positions (no caches, no shared code with the runtime). The attention transforms are
// the float64 oracle's (attention_oracle.h): entmax by 200 bisection halvings of τ inside the bracket,
// top-K by a stable sort, the ReLU forms as the seed code writes them. It is the one float64 forward of the
// tests: the float runtimes, the Vulkan forward and the int8 runtime are checked against it, and it reports the
// activation sites the quantizer observes (quant/activation_observer.h) to check the quantizer's own forward.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/hparams.h"
#include "quant/activation_observer.h"
#include "support/attention_oracle.h"

namespace tessera::testing {

using Vec = std::vector<double>;

inline std::vector<double> to_f64(const Tensor& t) {
  std::vector<float> f = tensor_to_f32(t);
  return {f.begin(), f.end()};
}

// One attention row over cosines `cos` with key scale β (score s = β²·cos), in the seed form the model
// was trained with (docs/attention.md, "The scores a model feeds the transform").
inline Vec attention_row(const AttentionMethod& m, double beta, const Vec& cos) {
  const double b2 = beta * beta;
  Vec s(cos.size());
  for (size_t j = 0; j < cos.size(); ++j) s[j] = b2 * cos[j];
  const bool regular = m.form == SeedForm::kRegular;
  switch (m.kind) {
    case AttentionKind::kSoftmax: return oracle::softmax(s);
    case AttentionKind::kSparsemax:
    case AttentionKind::kEntmax15:
    case AttentionKind::kEntmax43:
    case AttentionKind::kEntmaxAlpha: return oracle::entmax(m.entmax_alpha(), s).p;
    // Regular file: relu(β²(s - max s) + b) with s = β²cos; EFT file: relu(β²(cos - max cos) + b).
    case AttentionKind::kReluMax: return oracle::relu_row(regular ? s : cos, b2, m.relumax_b, true, false);
    // Regular file: relu(2β²·s + 1 - 2β²); EFT file: relu(cos).
    case AttentionKind::kNormRelu:
      return regular ? oracle::relu_row(s, 2 * b2, 1 - 2 * b2, false, true) : oracle::relu_row(cos, 1, 0, false, true);
    case AttentionKind::kTopKSoftmax: return oracle::top_k(s, m.top_k, true);
    case AttentionKind::kTopKUniform: return oracle::top_k(s, m.top_k, false);
  }
  return Vec(s.size(), 0.0);
}

struct RefModel {
  HParams hp;
  std::map<std::string, Vec> t;  // canonical name -> values
  const Vec* find(const std::string& n) const {
    auto it = t.find(n);
    return it == t.end() ? nullptr : &it->second;
  }
  const Vec& at(const std::string& n) const { return t.at(n); }
};

// Hands each position's row of one layer's activation site to the observer (none: nothing); the forward goes on
// with what the observer leaves.
struct SiteReport {
  quant::ActivationObserver* observer = nullptr;
  int64_t layer = 0;
  void operator()(quant::Site site, Vec& v) const {
    if (observer) observer->layer_site(layer, site, v.data(), int64_t(v.size()));
  }
};

inline Vec layer_norm(const Vec& x, const Vec* w, const Vec* b, double eps) {
  const double n = double(x.size());
  double mean = std::accumulate(x.begin(), x.end(), 0.0) / n, var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  var /= n;
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = (x[i] - mean) / std::sqrt(var + eps) * (w ? (*w)[i] : 1.0) + (b ? (*b)[i] : 0.0);
  return y;
}

inline Vec linear(const RefModel& m, const std::string& stem, const Vec& x) {
  const Vec& W = m.at(stem + ".weight");
  const Vec* b = m.find(stem + ".bias");
  const size_t cols = x.size(), rows = W.size() / cols;
  Vec y(rows, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) y[r] += W[r * cols + c] * x[c];
    if (b) y[r] += (*b)[r];
  }
  return y;
}

// Leaky-averaged, per-head unit keys for all positions: k̂_t for inputs h_0..h_{T-1}.
inline std::vector<Vec> unit_keys(
    const RefModel& m, const std::string& stem, const std::string& decay_name, const std::vector<Vec>& h, double eps,
    const std::function<void(Vec&)>& projected = [](Vec&) {}) {
  const int64_t H = m.hp.n_head, d = m.hp.head_dim();
  const Vec& a = m.at(decay_name);
  std::vector<Vec> out;
  Vec s(size_t(m.hp.n_embd), 0.0);
  for (const Vec& ht : h) {
    Vec u = linear(m, stem, ht), k(u.size());
    projected(u);
    for (int64_t hd = 0; hd < H; ++hd) {
      double ss = 0;
      for (int64_t i = hd * d; i < (hd + 1) * d; ++i) {
        s[size_t(i)] = a[size_t(hd)] * s[size_t(i)] + (1 - a[size_t(hd)]) * u[size_t(i)];
        ss += s[size_t(i)] * s[size_t(i)];
      }
      for (int64_t i = hd * d; i < (hd + 1) * d; ++i) k[size_t(i)] = s[size_t(i)] / (std::sqrt(ss) + eps);
    }
    out.push_back(k);
  }
  return out;
}

inline std::vector<Vec> context_memory(const RefModel& m, int64_t l, const std::vector<Vec>& h,
                                       const SiteReport& site = {}) {
  const auto& hp = m.hp;
  const int64_t H = hp.n_head, d = hp.head_dim(), C = hp.n_embd, T = int64_t(h.size());
  const std::string p = "blk." + std::to_string(l) + ".";
  auto keys =
      unit_keys(m, p + "attn_k", p + "attn_key_decay", h, hp.l2_norm_eps, [&](Vec& u) { site(quant::Site::kU, u); });
  std::vector<Vec> w;
  for (const Vec& ht : h) {
    w.push_back(linear(m, p + "attn_v", ht));
    site(quant::Site::kW, w.back());
  }
  const Vec &mix = m.at(p + "attn_value_mix"), &vs = m.at(p + "attn_value_scale"), &beta = m.at(p + "attn_key_scale");
  std::vector<Vec> v(size_t(T), Vec(size_t(C), 0.0));
  for (int64_t t = 0; t + 1 < T; ++t)
    for (int64_t hd = 0; hd < H; ++hd) {
      double ss = 0;
      Vec tmp(static_cast<size_t>(d));
      for (int64_t i = 0; i < d; ++i) {
        const size_t ch = size_t(hd * d + i);
        tmp[size_t(i)] = (1 - mix[size_t(hd)]) * w[size_t(t + 1)][ch] + mix[size_t(hd)] * w[size_t(t)][ch];
        ss += tmp[size_t(i)] * tmp[size_t(i)];
      }
      for (int64_t i = 0; i < d; ++i)
        v[size_t(t)][size_t(hd * d + i)] = vs[size_t(hd)] * tmp[size_t(i)] / (std::sqrt(ss) + hp.l2_norm_eps);
    }
  std::vector<Vec> out;
  for (int64_t t = 0; t < T; ++t) {
    Vec o(size_t(C), 0.0);
    const int64_t n = t - hp.mask_offset + 1;
    for (int64_t hd = 0; hd < H && n > 0; ++hd) {
      Vec cos(static_cast<size_t>(n));
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < d; ++i)
          cos[size_t(j)] += keys[size_t(t)][size_t(hd * d + i)] * keys[size_t(j)][size_t(hd * d + i)];
      Vec pr = attention_row(hp.method, beta[size_t(hd)], cos);
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < d; ++i) o[size_t(hd * d + i)] += pr[size_t(j)] * v[size_t(j)][size_t(hd * d + i)];
    }
    site(quant::Site::kO, o);
    out.push_back(linear(m, p + "attn_output", o));
  }
  return out;
}

inline std::vector<Vec> persistent_memory(const RefModel& m, int64_t l, const std::vector<Vec>& h,
                                          const SiteReport& site = {}) {
  const auto& hp = m.hp;
  const int64_t H = hp.n_head, d = hp.head_dim(), C = hp.n_embd, N = hp.pmem_size, P = hp.pmem_count;
  const std::string p = "blk." + std::to_string(l) + ".";
  auto keys = unit_keys(m, p + "pmem_k", p + "pmem_key_decay", h, 0.0, [&](Vec& u) { site(quant::Site::kU2, u); });
  const Vec &qs = m.at(p + "pmem_query_scale"), &vs = m.at(p + "pmem_value_scale");
  const Vec &MK = m.at(p + "pmem_mem_k"), &MV = m.at(p + "pmem_mem_v");
  std::vector<Vec> out;
  for (const Vec& k : keys) {
    Vec r(size_t(C), 0.0);
    for (int64_t hd = 0; hd < H; ++hd)
      for (int64_t pi = 0; pi < P; ++pi) {
        Vec s(static_cast<size_t>(N), 0.0);
        for (int64_t n = 0; n < N; ++n)
          for (int64_t i = 0; i < d; ++i)
            s[size_t(n)] += qs[size_t(hd)] * k[size_t(hd * d + i)] * MK[size_t(((pi * H + hd) * N + n) * d + i)];
        Vec pr = oracle::softmax(s);
        for (int64_t n = 0; n < N; ++n)
          for (int64_t i = 0; i < d; ++i)
            r[size_t(hd * d + i)] += vs[size_t(hd)] * pr[size_t(n)] / double(P) *
                                     MV[size_t(((pi * H + hd) * N + n) * d + i)];
      }
    site(quant::Site::kR, r);
    out.push_back(linear(m, p + "pmem_output", r));
  }
  return out;
}

// Logits [T][V] for `tokens`. `observer` (optional) receives the activation sites, layer by layer (each site's rows
// in position order), the residual rows after every update, and the final LayerNorm and logit rows.
inline std::vector<Vec> reference_logits(const RefModel& m, const std::vector<int32_t>& tokens,
                                         quant::ActivationObserver* observer = nullptr) {
  const auto& hp = m.hp;
  const int64_t C = hp.n_embd;
  const Vec& E = m.at("token_embd.weight");
  std::vector<Vec> x;
  for (int32_t tok : tokens) x.emplace_back(E.begin() + tok * C, E.begin() + (tok + 1) * C);
  auto ln_all = [&](const std::vector<Vec>& xs, const std::string& stem) {
    std::vector<Vec> r;
    for (const Vec& v : xs)
      r.push_back(layer_norm(v, m.find(stem + ".weight"), m.find(stem + ".bias"), hp.layer_norm_eps));
    return r;
  };
  auto add = [&](std::vector<Vec>& a, const std::vector<Vec>& b) {
    for (size_t t = 0; t < a.size(); ++t) {
      for (size_t i = 0; i < a[t].size(); ++i) a[t][i] += b[t][i];
      if (observer) observer->residual(a[t].data(), int64_t(a[t].size()));
    }
  };
  if (observer)
    for (const Vec& v : x) observer->residual(v.data(), int64_t(v.size()));
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const SiteReport site{observer, l};
    auto normed = [&](const std::vector<Vec>& xs, const std::string& stem, quant::Site s) {
      std::vector<Vec> h = ln_all(xs, stem);
      for (Vec& v : h) site(s, v);
      return h;
    };
    if (hp.pre_ln) {
      add(x, context_memory(m, l, normed(x, p + "attn_norm", quant::Site::kH1), site));
      if (!hp.attn_only) add(x, persistent_memory(m, l, normed(x, p + "pmem_norm", quant::Site::kH2), site));
    } else {
      x = normed(x, p + "attn_norm", quant::Site::kH1);
      add(x, context_memory(m, l, x, site));
      if (!hp.attn_only) {
        x = normed(x, p + "pmem_norm", quant::Site::kH2);
        add(x, persistent_memory(m, l, x, site));
      }
    }
  }
  const Vec& W = m.find("output.weight") ? m.at("output.weight") : E;
  const Vec* bias = m.find("output.bias");  // only a folded model's head has one (the final LayerNorm's bias)
  std::vector<Vec> logits;
  for (Vec& h : ln_all(x, "output_norm")) {
    if (observer) observer->final_norm(h.data(), C);
    Vec y(size_t(hp.vocab_size), 0.0);
    for (int64_t v = 0; v < hp.vocab_size; ++v) {
      for (int64_t c = 0; c < C; ++c) y[size_t(v)] += W[size_t(v * C + c)] * h[size_t(c)];
      if (bias) y[size_t(v)] += (*bias)[size_t(v)];
      y[size_t(v)] *= hp.logit_scale;
    }
    if (observer) observer->logits(y.data(), int64_t(y.size()));
    logits.push_back(y);
  }
  return logits;
}

}  // namespace tessera::testing
