#include "ops/softmax.h"

#include "ops/row_common.h"

namespace tessera::ops {
namespace {

// Writes e_i = exp(s_i - m) (0 for unusable keys) and returns Σ e_i. Partial sums of 64 terms
// in float (vectorised: 8 per lane, so < 1e-6 relative error), accumulated in double: Σp stays
// within 1e-6 of 1 at any n.
TESSERA_MULTIVERSION
double exp_pass(const float* s, float* p, size_t n, const uint8_t* mask, float m) {
  double total = 0.0;
  for (size_t b = 0; b < n; b += 64) {
    size_t e = b + 64 < n ? b + 64 : n;
    float part = 0.0f;
    if (mask == nullptr) {
      for (size_t i = b; i < e; ++i) {
        float d = s[i] - m;
        float w = d == d ? exp_nonpositive(d) : 0.0f;
        p[i] = w;
        part += w;
      }
    } else {
      for (size_t i = b; i < e; ++i) {
        float d = s[i] - m;
        float w = (mask[i] != 0 && d == d) ? exp_nonpositive(d) : 0.0f;
        p[i] = w;
        part += w;
      }
    }
    total += part;
  }
  return total;
}

TESSERA_MULTIVERSION
void scale_pass(float* p, size_t n, float scale) {
  for (size_t i = 0; i < n; ++i) p[i] *= scale;
}

}  // namespace

void softmax_row(const float* s, float* p, size_t n, const uint8_t* mask) {
  float m = usable_row_max(s, n, mask);
  if (m == -kInf) return fill_zero(p, n);
  if (m == kInf) return fill_uniform_on_value(s, p, n, mask, kInf);
  double total = exp_pass(s, p, n, mask, m);  // ≥ 1: the max contributes exp(0)
  scale_pass(p, n, static_cast<float>(1.0 / total));
}

}  // namespace tessera::ops
