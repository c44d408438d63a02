#include "ops/linear.h"

namespace tessera::ops {

// Clones for AVX2+FMA and baseline x86-64: chosen once at load by the dynamic linker (ifunc).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TESSERA_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TESSERA_MULTIVERSION
#endif

TESSERA_MULTIVERSION float dot_f32(const float* a, const float* b, int64_t n) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[i + l] * b[i + l];
  for (int l = 0; i < n; ++i, ++l) acc[l] += a[i] * b[i];
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0];
}

TESSERA_MULTIVERSION double dot_f64(const float* a, const float* b, int64_t n) {
  constexpr int kLanes = 8;
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += double(a[i + l]) * double(b[i + l]);
  for (int l = 0; i < n; ++i, ++l) acc[l] += double(a[i]) * double(b[i]);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0];
}

void linear_f32(const float* W, const float* bias, const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float v = dot_f32(W + r * cols, x, cols);
    y[r] = bias ? v + bias[r] : v;
  }
}

}  // namespace tessera::ops
