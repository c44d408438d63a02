#include "ops/relumax.h"

#include "ops/row_common.h"

namespace tessera::ops {
namespace {

TESSERA_MULTIVERSION
void relu_pass(const float* s, float* p, size_t n, const uint8_t* mask, float m, float scale, float bias) {
  for (size_t i = 0; i < n; ++i) {
    float w = scale * (s[i] - m) + bias;
    w = w > 0.0f ? w : 0.0f;  // NaN -> 0
    p[i] = (mask == nullptr || mask[i] != 0) ? w : 0.0f;
  }
}

}  // namespace

void relumax_row(const float* s, float* p, size_t n, const uint8_t* mask, float scale, float bias) {
  float m = usable_row_max(s, n, mask);
  if (m == -kInf) return fill_zero(p, n);
  if (m == kInf) return fill_uniform_on_value(s, p, n, mask, kInf);
  relu_pass(s, p, n, mask, m, scale, bias);
  double total = sum_row(p, n);
  if (!(total > 0.0) || !(total < 1e300)) return fill_uniform_on_value(s, p, n, mask, m);
  scale_row(p, n, static_cast<float>(1.0 / total));
}

}  // namespace tessera::ops
