#include "ops/row_common.h"

#include "ops/simd8.h"

namespace tessera::ops {

// Eight lanes in a vector register (a plain running max is a loop-carried reduction GCC will not
// reorder without -ffast-math). Unusable keys become -inf, so NaN never wins.
TESSERA_MULTIVERSION
float usable_row_max(const float* s, size_t n, const uint8_t* mask) {
  using namespace simd;
  const v8f neg_inf = splat8(-kInf);
  v8f lanes = neg_inf;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v8f v = load8(s + i);
    v8i ok = v == v;
    if (mask != nullptr) ok &= mask8(mask + i);
    v = ok ? v : neg_inf;
    lanes = v > lanes ? v : lanes;
  }
  float m = hmax8(lanes);
  for (; i < n; ++i) {
    float v = key_usable(mask, i, s[i]) ? s[i] : -kInf;
    m = v > m ? v : m;
  }
  return m;
}

// Blocks of 64 summed in eight float lanes (8 terms each: < 1e-6 relative error), blocks in double.
TESSERA_MULTIVERSION
double sum_row(const float* p, size_t n) {
  using namespace simd;
  double total = 0.0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    v8f lanes = load8(p + i);
    for (size_t b = 8; b < 64; b += 8) lanes += load8(p + i + b);
    total += hsum8(lanes);
  }
  for (; i < n; ++i) total += p[i];
  return total;
}

TESSERA_MULTIVERSION
void scale_row(float* p, size_t n, float factor) {
  for (size_t i = 0; i < n; ++i) p[i] *= factor;
}

void fill_zero(float* p, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = 0.0f;
}

void fill_uniform_on_value(const float* s, float* p, size_t n, const uint8_t* mask, float value) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += key_usable(mask, i, s[i]) && s[i] == value;
  float w = count ? 1.0f / static_cast<float>(count) : 0.0f;
  for (size_t i = 0; i < n; ++i) p[i] = (key_usable(mask, i, s[i]) && s[i] == value) ? w : 0.0f;
}

void fill_uniform_usable(const float* s, float* p, size_t n, const uint8_t* mask) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += key_usable(mask, i, s[i]);
  float w = count ? 1.0f / static_cast<float>(count) : 0.0f;
  for (size_t i = 0; i < n; ++i) p[i] = key_usable(mask, i, s[i]) ? w : 0.0f;
}

}  // namespace tessera::ops
