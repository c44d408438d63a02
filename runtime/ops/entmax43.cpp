#include "ops/entmax43.h"

#include <cmath>

#include "ops/entmax_exact.h"

namespace tessera::ops {

// Σ_{set}(z - τ)^3 = 1. With M = S1/k, d = z - M, u = M - τ: Σ(d + u)^3 = W + 3uV + k u^3 (Σd = 0),
// so u^3 + p u + q = 0 with p = 3V/k ≥ 0, q = (W - 1)/k, V = Σd², W = Σd³. p ≥ 0 gives one real root.
// Cardano: A = cbrt(|q|/2 + sqrt(q²/4 + p³/27)), u = -sign(q)(A - p/(3A)). The difference A - p/(3A)
// cancels when p³ ≫ q²; since A³ - (p/(3A))³ = |q|, it equals |q| / (A² + p/3 + (p/(3A))²), which
// has no cancellation: u = -q / (A² + p/3 + p²/(9A²)).
double entmax43_threshold(const ActiveMoments& m) {
  double k = static_cast<double>(m.count);
  double mean = m.s1 / k;
  double v = m.s2 - m.s1 * mean;
  if (v < 0.0) v = 0.0;
  double w = m.s3 - 3.0 * mean * m.s2 + 2.0 * k * mean * mean * mean;
  double p = 3.0 * v / k;
  double q = (w - 1.0) / k;
  double a = std::cbrt(std::fabs(q) * 0.5 + std::sqrt(q * q * 0.25 + p * p * p / 27.0));
  if (a == 0.0) return mean;  // p = q = 0
  double u = -q / (a * a + p / 3.0 + p * p / (9.0 * a * a));
  return mean - u;
}

void entmax43_row(const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  entmax_exact_row(3, s, p, n, mask, scratch);
}

}  // namespace tessera::ops
