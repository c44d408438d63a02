// Eight-float vectors (GCC/Clang vector extensions) for the reductions the auto-vectoriser will not
// reorder without -ffast-math (max with NaN screening, sums). Inside a target_clones function they
// compile to one AVX2 register in the x86-64-v3 clone and to two SSE registers in the default one.
#pragma once

#include <cstdint>
#include <cstring>

// The helpers are always inlined into their (target_clones) callers, so the AVX argument-passing
// ABI note GCC emits for the default target does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#define TESSERA_SIMD_INLINE inline __attribute__((always_inline))

namespace tessera::ops::simd {

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

TESSERA_SIMD_INLINE v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
TESSERA_SIMD_INLINE v8f splat8(float x) { return v8f{x, x, x, x, x, x, x, x}; }
// All-ones lanes where mask[j] != 0.
TESSERA_SIMD_INLINE v8i mask8(const uint8_t* m) {
  v8i v = {m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]};
  return v != 0;
}
TESSERA_SIMD_INLINE float hmax8(v8f v) {
  float m = v[0];
  for (int j = 1; j < 8; ++j) m = v[j] > m ? v[j] : m;
  return m;
}
TESSERA_SIMD_INLINE float hsum8(v8f v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }

}  // namespace tessera::ops::simd

#pragma GCC diagnostic pop
