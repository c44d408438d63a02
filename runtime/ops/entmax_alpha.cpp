#include "ops/entmax_alpha.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "ops/row_common.h"

namespace tessera::ops {
namespace {

inline float centred(float s, float m, float scale) { return (s - m) * scale; }

// Σ_{j<ρ} (z_j - z_ρ)^r: the value of f(z_(ρ)) + 1 on the first ρ sorted entries.
double mass_above(double r, const float* z, size_t rho) {
  double zr = z[rho - 1], total = 0.0;
  for (size_t j = 0; j + 1 < rho; ++j) total += std::pow(static_cast<double>(z[j]) - zr, r);
  return total;
}

}  // namespace

double entmax_alpha_threshold_sorted(double r, const float* z, size_t m) {
  // Support size k* = the largest ρ with Σ_{j<ρ}(z_j - z_ρ)^r < 1 (τ* < z_ρ ⟺ f(z_ρ) < 0). The test
  // is monotone in ρ (z_ρ decreases, the sum grows), so binary search: O(m log m) powers.
  size_t lo_rho = 1, hi_rho = m;  // test(lo_rho) holds (empty sum)
  while (lo_rho < hi_rho) {
    size_t mid = lo_rho + (hi_rho - lo_rho + 1) / 2;
    if (mass_above(r, z, mid) < 1.0) lo_rho = mid;
    else hi_rho = mid - 1;
  }
  size_t k = lo_rho;
  // h(τ) = Σ_{j<k}(z_j - τ)^r - 1: h(hi) < 0 at hi = z_k, h(lo) ≥ 0 at lo = max(-1, z_{k+1}).
  double hi = z[k - 1];
  double lo = k < m ? std::max(-1.0, static_cast<double>(z[k])) : -1.0;
  double tau = lo;
  for (int iter = 0; iter < 400; ++iter) {
    double h = -1.0, dh = 0.0;
    for (size_t j = 0; j < k; ++j) {
      double y = static_cast<double>(z[j]) - tau;
      if (y <= 0.0) continue;
      double yr1 = std::pow(y, r - 1.0);
      h += yr1 * y;
      dh -= r * yr1;
    }
    if (h == 0.0) return tau;
    if (h > 0.0) lo = tau;
    else hi = tau;
    double next = dh < 0.0 ? tau - h / dh : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);  // safeguard: stay inside the bracket
    // τ ∈ [-1, 0]: a bracket of 1e-15 is a few ulp of double, i.e. converged.
    if (next == tau || hi - lo <= 1e-15) return next;
    tau = next;
  }
  return tau;
}

void entmax_alpha_row(double alpha, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  float m = usable_row_max(s, n, mask);
  if (m == -kInf) return fill_zero(p, n);
  if (m == kInf) return fill_uniform_on_value(s, p, n, mask, kInf);
  const float scale = static_cast<float>(alpha - 1.0);
  const double r = 1.0 / (alpha - 1.0);
  // Bracket: τ ≥ -1 (the argmax alone gives f(-1) ≥ 0), so z ≤ -1 is outside the support.
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    float zi = centred(s[i], m, scale);
    scratch[k] = zi;
    k += (zi > -1.0f) & (mask == nullptr || mask[i] != 0);
  }
  std::sort(scratch, scratch + k, std::greater<float>());
  double tau = entmax_alpha_threshold_sorted(r, scratch, k);
  for (size_t i = 0; i < n; ++i) {
    double y = static_cast<double>(centred(s[i], m, scale)) - tau;
    bool in = y > 0.0 && (mask == nullptr || mask[i] != 0);
    p[i] = in ? static_cast<float>(std::pow(y, r)) : 0.0f;
  }
}

}  // namespace tessera::ops
