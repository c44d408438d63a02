// Float64 forward of a Memory Mosaics model over a whole sequence (no caching), from docs/model.md.
#include "model_oracle.h"

namespace tessera::vk::test {
namespace {

using Rows = std::vector<std::vector<double>>;

Rows layernorm(const Rows& x, const std::vector<double>& w, double eps, const std::vector<double>& b = {}) {
  Rows out = x;
  for (auto& r : out) {
    double mean = 0, var = 0;
    for (double v : r) mean += v;
    mean /= double(r.size());
    for (double v : r) var += (v - mean) * (v - mean);
    var /= double(r.size());
    for (size_t c = 0; c < r.size(); ++c) r[c] = (r[c] - mean) / std::sqrt(var + eps) * w[c] + (b.empty() ? 0.0 : b[c]);
  }
  return out;
}

Rows matmul(const RandomModel::Mat& m, const Rows& x) {
  Rows y(x.size(), std::vector<double>(size_t(m.rows), 0.0));
  for (size_t t = 0; t < x.size(); ++t)
    for (int64_t o = 0; o < m.rows; ++o) {
      double s = m.b.empty() ? 0.0 : m.b[size_t(o)];
      for (int64_t c = 0; c < m.cols; ++c) s += m.w[size_t(o * m.cols + c)] * x[t][size_t(c)];
      y[t][size_t(o)] = s;
    }
  return y;
}

// Leaky average then per-head unit normalisation.
Rows leaky_unit(const Rows& u, const std::vector<double>& decay, int64_t d, double eps) {
  Rows k = u;
  std::vector<double> s(u[0].size(), 0.0);
  for (size_t t = 0; t < u.size(); ++t) {
    for (size_t c = 0; c < s.size(); ++c) {
      double a = decay[c / size_t(d)];
      s[c] = a * s[c] + (1 - a) * u[t][c];
    }
    for (size_t h = 0; h < s.size() / size_t(d); ++h) {
      double q = 0;
      for (int64_t i = 0; i < d; ++i) q += s[h * size_t(d) + size_t(i)] * s[h * size_t(d) + size_t(i)];
      for (int64_t i = 0; i < d; ++i) k[t][h * size_t(d) + size_t(i)] = s[h * size_t(d) + size_t(i)] / (std::sqrt(q) + eps);
    }
  }
  return k;
}

}  // namespace

std::vector<double> oracle_forward(const RandomModel& m, const std::vector<int32_t>& tokens) {
  const HParams& hp = m.view.hp;
  const int64_t C = hp.n_embd, H = hp.n_head, d = C / H, T = int64_t(tokens.size()), N = hp.pmem_size;
  Rows x(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t)
    x[size_t(t)].assign(m.embd.w.begin() + tokens[size_t(t)] * C, m.embd.w.begin() + (tokens[size_t(t)] + 1) * C);
  for (const auto& L : m.layers) {
    // Pre-LN: h = LN1(x), x += f(h). Post-LN: x = LN1(x), x += f(x).
    if (!hp.pre_ln) x = layernorm(x, L.ln1, hp.layer_norm_eps, L.ln1b);
    Rows h = hp.pre_ln ? layernorm(x, L.ln1, hp.layer_norm_eps, L.ln1b) : x;
    Rows k = leaky_unit(matmul(L.k, h), L.decay, d, hp.l2_norm_eps);
    Rows w = matmul(L.v, h);
    Rows v(static_cast<size_t>(T), std::vector<double>(size_t(C), 0.0));
    for (int64_t j = 0; j + 1 < T; ++j)
      for (int64_t hh = 0; hh < H; ++hh) {
        double q = 0, c = L.mix[size_t(hh)];
        std::vector<double> t(static_cast<size_t>(d));
        for (int64_t i = 0; i < d; ++i) {
          t[size_t(i)] = (1 - c) * w[size_t(j + 1)][size_t(hh * d + i)] + c * w[size_t(j)][size_t(hh * d + i)];
          q += t[size_t(i)] * t[size_t(i)];
        }
        for (int64_t i = 0; i < d; ++i)
          v[size_t(j)][size_t(hh * d + i)] = L.vscale[size_t(hh)] * t[size_t(i)] / (std::sqrt(q) + hp.l2_norm_eps);
      }
    Rows o(static_cast<size_t>(T), std::vector<double>(size_t(C), 0.0));
    for (int64_t t = 0; t < T; ++t) {
      int64_t nk = t - hp.mask_offset + 1;
      if (nk <= 0) continue;
      for (int64_t hh = 0; hh < H; ++hh) {
        std::vector<double> cs(static_cast<size_t>(nk));
        for (int64_t j = 0; j < nk; ++j) {
          double s = 0;
          for (int64_t i = 0; i < d; ++i) s += k[size_t(t)][size_t(hh * d + i)] * k[size_t(j)][size_t(hh * d + i)];
          cs[size_t(j)] = s;
        }
        double b2 = L.beta[size_t(hh)] * L.beta[size_t(hh)];
        std::vector<double> p = oracle_row(hp.method, cs, b2);
        for (int64_t j = 0; j < nk; ++j)
          for (int64_t i = 0; i < d; ++i) o[size_t(t)][size_t(hh * d + i)] += p[size_t(j)] * v[size_t(j)][size_t(hh * d + i)];
      }
    }
    Rows y = matmul(L.o, o);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c) x[size_t(t)][size_t(c)] += y[size_t(t)][size_t(c)];
    if (hp.attn_only) continue;
    if (!hp.pre_ln) x = layernorm(x, L.ln2, hp.layer_norm_eps, L.ln2b);
    Rows h2 = hp.pre_ln ? layernorm(x, L.ln2, hp.layer_norm_eps, L.ln2b) : x;
    Rows kq = leaky_unit(matmul(L.pk, h2), L.pdecay, d, hp.l2_norm_eps);
    Rows r(static_cast<size_t>(T), std::vector<double>(size_t(C), 0.0));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t hh = 0; hh < H; ++hh)
        for (int64_t i = 0; i < hp.pmem_count; ++i) {
          std::vector<double> s(static_cast<size_t>(N));
          size_t base = size_t(((i * H) + hh) * N * d);
          for (int64_t n = 0; n < N; ++n) {
            double dot = 0;
            for (int64_t e = 0; e < d; ++e)
              dot += L.pqscale[size_t(hh)] * kq[size_t(t)][size_t(hh * d + e)] * L.memk[base + size_t(n * d + e)];
            s[size_t(n)] = dot;
          }
          std::vector<double> p = oracle_softmax(s);
          for (int64_t n = 0; n < N; ++n)
            for (int64_t e = 0; e < d; ++e)
              r[size_t(t)][size_t(hh * d + e)] += L.pvscale[size_t(hh)] / double(hp.pmem_count) * p[size_t(n)] *
                                                  L.memv[base + size_t(n * d + e)];
        }
    Rows y2 = matmul(L.po, r);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c) x[size_t(t)][size_t(c)] += y2[size_t(t)][size_t(c)];
  }
  Rows hf = layernorm(x, m.ln_out, hp.layer_norm_eps);
  std::vector<double> logits;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t vtok = 0; vtok < hp.vocab_size; ++vtok) {
      double s = 0;
      for (int64_t c = 0; c < C; ++c) s += m.embd.w[size_t(vtok * C + c)] * hf[size_t(t)][size_t(c)];
      logits.push_back(s * hp.logit_scale);
    }
  return logits;
}

}  // namespace tessera::vk::test
