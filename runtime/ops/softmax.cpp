#include "ops/softmax.h"

#include "ops/row_common.h"

namespace tessera::ops {
namespace {

// e_i = exp(s_i - m), 0 for unusable keys (a select, so the loop vectorises).
TESSERA_MULTIVERSION
void exp_pass(const float* s, float* p, size_t n, const uint8_t* mask, float m) {
  if (mask == nullptr) {
    for (size_t i = 0; i < n; ++i) {
      float d = s[i] - m;
      float w = exp_nonpositive(d);
      p[i] = d == d ? w : 0.0f;
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      float d = s[i] - m;
      float w = exp_nonpositive(d);
      p[i] = (mask[i] != 0 && d == d) ? w : 0.0f;
    }
  }
}

}  // namespace

void softmax_row(const float* s, float* p, size_t n, const uint8_t* mask) {
  float m = usable_row_max(s, n, mask);
  if (m == -kInf) return fill_zero(p, n);
  if (m == kInf) return fill_uniform_on_value(s, p, n, mask, kInf);
  exp_pass(s, p, n, mask, m);
  double total = sum_row(p, n);  // ≥ 1: the max contributes exp(0)
  scale_row(p, n, static_cast<float>(1.0 / total));
}

}  // namespace tessera::ops
