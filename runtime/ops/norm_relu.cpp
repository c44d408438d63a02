#include "ops/norm_relu.h"

#include "ops/row_common.h"

namespace tessera::ops {
namespace {

TESSERA_MULTIVERSION
void relu_pass(const float* s, float* p, size_t n, const uint8_t* mask, float scale, float bias) {
  for (size_t i = 0; i < n; ++i) {
    float w = scale * s[i] + bias;
    w = w > 0.0f ? w : 0.0f;  // NaN -> 0
    p[i] = (mask == nullptr || mask[i] != 0) ? w : 0.0f;
  }
}

}  // namespace

void norm_relu_row(const float* s, float* p, size_t n, const uint8_t* mask, float scale, float bias) {
  relu_pass(s, p, n, mask, scale, bias);
  double total = sum_row(p, n);
  if (total == 0.0) return fill_uniform_usable(s, p, n, mask);
  if (!(total < 1e300)) {  // an infinite weight (or a float overflow of the sum)
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) count += p[i] == kInf;
    if (count == 0) {  // finite weights whose float block sums overflowed: sum again in double
      double exact = 0.0;
      for (size_t i = 0; i < n; ++i) exact += p[i];
      for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(p[i] / exact);
      return;
    }
    for (size_t i = 0; i < n; ++i) p[i] = p[i] == kInf ? 1.0f / static_cast<float>(count) : 0.0f;
    return;
  }
  scale_row(p, n, static_cast<float>(1.0 / (total > 1e-6 ? total : 1e-6)));
}

}  // namespace tessera::ops
