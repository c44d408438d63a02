#include "ops/relumax.h"

#include "ops/row_common.h"

namespace tessera::ops {
namespace {

TESSERA_MULTIVERSION
double relu_pass(const float* s, float* p, size_t n, const uint8_t* mask, float m, float scale,
                 float bias) {
  double total = 0.0;
  for (size_t b = 0; b < n; b += 64) {
    size_t e = b + 64 < n ? b + 64 : n;
    float part = 0.0f;
    for (size_t i = b; i < e; ++i) {
      float w = scale * (s[i] - m) + bias;
      w = w > 0.0f ? w : 0.0f;  // NaN -> 0
      w = (mask == nullptr || mask[i] != 0) ? w : 0.0f;
      p[i] = w;
      part += w;
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

void relumax_row(const float* s, float* p, size_t n, const uint8_t* mask, float scale, float bias) {
  float m = usable_row_max(s, n, mask);
  if (m == -kInf) return fill_zero(p, n);
  if (m == kInf) return fill_uniform_on_value(s, p, n, mask, kInf);
  double total = relu_pass(s, p, n, mask, m, scale, bias);
  if (!(total > 0.0) || !(total < 1e300)) return fill_uniform_on_value(s, p, n, mask, m);
  scale_pass(p, n, static_cast<float>(1.0 / total));
}

}  // namespace tessera::ops
