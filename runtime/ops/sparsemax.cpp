#include "ops/sparsemax.h"

#include "ops/entmax_exact.h"

namespace tessera::ops {

// Σ_{set}(z - τ) = 1  ⇒  τ = (Σz - 1)/k.
double sparsemax_threshold(const ActiveMoments& m) { return (m.s1 - 1.0) / static_cast<double>(m.count); }

void sparsemax_row(const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  entmax_exact_row(1, s, p, n, mask, scratch);
}

}  // namespace tessera::ops
