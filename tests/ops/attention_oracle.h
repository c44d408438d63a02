// Independent float64 oracles for the attention transforms (tests only). They share no code with
// runtime/ops: the entmax threshold is found by plain bisection (≥ 200 halvings) inside the bracket.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace tessera::oracle {

inline bool usable(const std::vector<uint8_t>& mask, size_t i, float v) {
  return (mask.empty() || mask[i] != 0) && !std::isnan(v);
}

struct EntmaxResult {
  std::vector<double> p;
  std::vector<double> x;  // (α-1)(s - max s) in double (τ's scale); -inf for unusable keys
  double tau = 0.0;
};

// α-entmax: p_i = [(α-1)s_i - τ]_+^{1/(α-1)}. Bracket on the (α-1)s scale: τ ∈ [m - 1, m - n^{1-α}]
// (the argmax alone gives f(m-1) ≥ 0; n equal entries give f(m - n^{1-α}) ≤ 0). 200 halvings of a
// bracket of width ≤ 1 reach the double resolution long before they stop (no renormalisation).
// Only finite usable scores take part; +inf rows are the caller's business.
inline EntmaxResult entmax(double alpha, const std::vector<float>& s, const std::vector<uint8_t>& mask = {}) {
  const size_t n = s.size();
  const double r = 1.0 / (alpha - 1.0);
  EntmaxResult out;
  out.p.assign(n, 0.0);
  out.x.assign(n, -std::numeric_limits<double>::infinity());
  // Centre at the max first (in double): with |s| ~ 1e30, m - 1 == m would collapse the bracket.
  double smax = -std::numeric_limits<double>::infinity();
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!usable(mask, i, s[i]) || std::isinf(s[i])) continue;
    smax = std::max(smax, static_cast<double>(s[i]));
    ++count;
  }
  if (count == 0) return out;
  for (size_t i = 0; i < n; ++i)
    if (usable(mask, i, s[i]) && !std::isinf(s[i]))
      out.x[i] = (alpha - 1.0) * (static_cast<double>(s[i]) - smax);
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

inline std::vector<double> softmax(const std::vector<float>& s, const std::vector<uint8_t>& mask = {}) {
  std::vector<double> p(s.size(), 0.0);
  double m = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < s.size(); ++i)
    if (usable(mask, i, s[i])) m = std::max(m, static_cast<double>(s[i]));
  if (!std::isfinite(m)) return p;
  double total = 0.0;
  for (size_t i = 0; i < s.size(); ++i)
    if (usable(mask, i, s[i])) total += p[i] = std::exp(static_cast<double>(s[i]) - m);
  for (double& v : p) v /= total;
  return p;
}

// Indices of the K' = min(K, #usable) largest usable scores, ties to the lowest index.
inline std::vector<size_t> top_k_indices(int k, const std::vector<float>& s,
                                         const std::vector<uint8_t>& mask = {}) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < s.size(); ++i)
    if (usable(mask, i, s[i])) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  if (idx.size() > static_cast<size_t>(k)) idx.resize(k);
  return idx;
}

}  // namespace tessera::oracle
