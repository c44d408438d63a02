#include "ops/entmax15.h"

#include <cmath>

#include "ops/entmax_exact.h"

namespace tessera::ops {

// Σ_{set}(z - τ)^2 = 1 with τ below every member: the smaller root of
// k τ² - 2 S1 τ + S2 - 1 = 0, i.e. τ = mean - sqrt((1 - ss)/k), ss = Σ(z - mean)² = S2 - S1·mean.
// When ss > 1 there is no such root (the set is larger than the support); the clamp then yields
// τ = mean, which fails the caller's "τ below every member" test, as it must.
double entmax15_threshold(const ActiveMoments& m) {
  double k = static_cast<double>(m.count);
  double mean = m.s1 / k;
  double ss = m.s2 - m.s1 * mean;
  double delta = (1.0 - ss) / k;
  return mean - std::sqrt(delta > 0.0 ? delta : 0.0);
}

void entmax15_row(const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  entmax_exact_row(2, s, p, n, mask, scratch);
}

}  // namespace tessera::ops
