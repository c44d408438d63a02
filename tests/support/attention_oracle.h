// The float64 oracle of every attention transform (docs/attention.md), shared by the ops, Vulkan and model
// tests. Written from the defining equations and sharing no code with runtime/ops or the shaders: the entmax
// threshold is found by plain bisection (200 halvings) inside the bracket.
//
// Scores come as double (the model-level oracles) or as float (the kernel tests, which also pass masks and
// non-finite scores); a masked or NaN score takes no part, as in the kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace tessera::oracle {

inline bool usable(const std::vector<uint8_t>& mask, size_t i, double v) {
  return (mask.empty() || mask[i] != 0) && !std::isnan(v);
}

inline std::vector<double> widen(const std::vector<float>& s) { return {s.begin(), s.end()}; }

struct EntmaxResult {
  std::vector<double> p;
  std::vector<double> x;  // (α-1)(s - max s) in double (τ's scale); -inf for unusable keys
  double tau = 0.0;
};

// α-entmax: p_i = [(α-1)s_i - τ]_+^{1/(α-1)}. Bracket on the (α-1)s scale: τ ∈ [m - 1, m - n^{1-α}]
// (the argmax alone gives f(m-1) ≥ 0; n equal entries give f(m - n^{1-α}) ≤ 0). 200 halvings of a
// bracket of width ≤ 1 reach the double resolution long before they stop (no renormalisation).
// Only finite usable scores take part; +inf rows are the caller's business.
inline EntmaxResult entmax(double alpha, const std::vector<double>& s, const std::vector<uint8_t>& mask = {}) {
  const size_t n = s.size();
  const double r = 1.0 / (alpha - 1.0);
  EntmaxResult out;
  out.p.assign(n, 0.0);
  out.x.assign(n, -std::numeric_limits<double>::infinity());
  // Centre at the max first: with |s| ~ 1e30, m - 1 == m would collapse the bracket.
  double smax = -std::numeric_limits<double>::infinity();
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!usable(mask, i, s[i]) || std::isinf(s[i])) continue;
    smax = std::max(smax, s[i]);
    ++count;
  }
  if (count == 0) return out;
  for (size_t i = 0; i < n; ++i)
    if (usable(mask, i, s[i]) && !std::isinf(s[i])) out.x[i] = (alpha - 1.0) * (s[i] - smax);
  const double m = 0.0;
  auto power = [&](double y) {  // exact small integer powers: keeps the 200 halvings cheap
    if (alpha == 2.0) return y;
    if (alpha == 1.5) return y * y;
    if (alpha == 4.0 / 3.0) return y * y * y;
    return std::pow(y, r);
  };
  double lo = m - 1.0, hi = m - std::pow(static_cast<double>(count), 1.0 - alpha);
  std::vector<double> live;  // every τ tried is ≥ lo, so entries ≤ lo never contribute
  for (double xi : out.x)
    if (xi > lo) live.push_back(xi);
  auto f = [&](double tau) {
    double total = 0.0;
    for (double xi : live)
      if (xi > tau) total += power(xi - tau);
    return total - 1.0;
  };
  for (int i = 0; i < 200; ++i) {
    double mid = 0.5 * (lo + hi);
    if (f(mid) >= 0.0) lo = mid;
    else hi = mid;
  }
  out.tau = 0.5 * (lo + hi);
  for (size_t i = 0; i < n; ++i)
    if (out.x[i] > out.tau) out.p[i] = power(out.x[i] - out.tau);
  return out;
}
inline EntmaxResult entmax(double alpha, const std::vector<float>& s, const std::vector<uint8_t>& mask = {}) {
  return entmax(alpha, widen(s), mask);
}

// p = exp(s - max s) / Σ exp(s - max s) over the usable keys; all zeros when none is usable.
inline std::vector<double> softmax(const std::vector<double>& s, const std::vector<uint8_t>& mask = {}) {
  std::vector<double> p(s.size(), 0.0);
  double m = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < s.size(); ++i)
    if (usable(mask, i, s[i])) m = std::max(m, s[i]);
  if (!std::isfinite(m)) return p;
  double total = 0.0;
  for (size_t i = 0; i < s.size(); ++i)
    if (usable(mask, i, s[i])) total += p[i] = std::exp(s[i] - m);
  for (double& v : p) v /= total;
  return p;
}
inline std::vector<double> softmax(const std::vector<float>& s, const std::vector<uint8_t>& mask = {}) {
  return softmax(widen(s), mask);
}

// ReLUmax (relative = true): p ∝ relu(scale·(s - max s) + bias), divided by the sum.
// Normalised ReLU (relative = false, norm_relu = true): p ∝ relu(scale·s + bias), divided by max(Σ, 1e-6);
// uniform when Σ = 0 (the seed code's guard).
inline std::vector<double> relu_row(const std::vector<double>& s, double scale, double bias, bool relative,
                                    bool norm_relu) {
  const double m = *std::max_element(s.begin(), s.end());
  double z = 0;
  std::vector<double> p(s.size());
  for (size_t i = 0; i < s.size(); ++i) z += p[i] = std::max(scale * (relative ? s[i] - m : s[i]) + bias, 0.0);
  if (norm_relu && z == 0) return std::vector<double>(s.size(), 1.0 / double(s.size()));
  for (double& x : p) x /= norm_relu ? std::max(z, 1e-6) : z;
  return p;
}

// Indices of the K' = min(K, #usable) largest usable scores, ties to the lowest index.
inline std::vector<size_t> top_k_indices(int k, const std::vector<double>& s, const std::vector<uint8_t>& mask = {}) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < s.size(); ++i)
    if (usable(mask, i, s[i])) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  if (idx.size() > static_cast<size_t>(k)) idx.resize(k);
  return idx;
}
inline std::vector<size_t> top_k_indices(int k, const std::vector<float>& s, const std::vector<uint8_t>& mask = {}) {
  return top_k_indices(k, widen(s), mask);
}

// Top-K softmax (softmax over the K' largest, 0 elsewhere) or uniform top-K (1/K' on them).
inline std::vector<double> top_k(const std::vector<double>& s, int k, bool softmax_weights) {
  const std::vector<size_t> idx = top_k_indices(k, s);
  std::vector<double> p(s.size(), 0.0);
  if (idx.empty()) return p;
  double z = 0;
  for (size_t i : idx) z += p[i] = softmax_weights ? std::exp(s[i] - s[idx[0]]) : 1.0;
  for (double& x : p) x /= z;
  return p;
}

}  // namespace tessera::oracle
