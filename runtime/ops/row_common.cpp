#include "ops/row_common.h"

namespace tessera::ops {

TESSERA_MULTIVERSION
float usable_row_max(const float* s, size_t n, const uint8_t* mask) {
  float m = -kInf;
  if (mask == nullptr) {
    for (size_t i = 0; i < n; ++i) {
      float v = s[i] == s[i] ? s[i] : -kInf;  // NaN never wins
      m = v > m ? v : m;
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      float v = (mask[i] != 0 && s[i] == s[i]) ? s[i] : -kInf;
      m = v > m ? v : m;
    }
  }
  return m;
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
