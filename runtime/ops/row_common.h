// Shared passes of the float attention transforms (ops/<name>.cpp): the masked row maximum,
// the degenerate rows (no usable key, +inf keys), and a vectorisable exp.
//
// Conventions shared by every float transform (documented in docs/numerics.md):
// - A key is *usable* when it is unmasked and its score is not NaN. NaN scores get weight exactly 0
//   (like a masked key), never a NaN probability.
// - A row whose usable scores are all -inf (or that has no usable key) yields all zeros.
// - A row with +inf scores puts the uniform distribution on its +inf keys (the limit of every transform).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

// Function multiversioning: the hot passes get an AVX2+FMA clone chosen at load time (ifunc) and a
// portable default. Only GCC on x86-64 Linux; elsewhere the plain (portable) function is built.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(TESSERA_NO_MULTIVERSION)
#define TESSERA_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TESSERA_MULTIVERSION
#endif

namespace tessera::ops {

inline constexpr float kInf = std::numeric_limits<float>::infinity();

inline bool key_usable(const uint8_t* mask, size_t i, float v) { return (mask == nullptr || mask[i] != 0) && v == v; }

// Max over usable keys; -inf when there is none (or all are -inf).
float usable_row_max(const float* s, size_t n, const uint8_t* mask);

// Σ p_i in double (vectorised float lanes per block of 64, blocks added in double).
double sum_row(const float* p, size_t n);
void scale_row(float* p, size_t n, float factor);

void fill_zero(float* p, size_t n);
// Uniform weight on the usable keys equal to `value` (+inf rows, argmax ties); zeros elsewhere.
void fill_uniform_on_value(const float* s, float* p, size_t n, const uint8_t* mask, float value);
// Uniform weight on every usable key.
void fill_uniform_usable(const float* s, float* p, size_t n, const uint8_t* mask);

// e^x for x <= 0, relative error < 3e-7 (about 2 ulp), 0 below -87.3 (no denormal results).
// Cody-Waite reduction x = k ln2 + f, |f| <= ln2/2, degree-6 Taylor/minimax polynomial for e^f,
// 2^k built in the exponent bits. Branch-free so that loops calling it auto-vectorise.
inline float exp_nonpositive(float x) {
  const float kLog2e = 1.44269504088896341f;
  const float kLn2Hi = 0.693359375f;     // 8 significant bits: k*kLn2Hi is exact for |k| < 2^16
  const float kLn2Lo = -2.12194440e-4f;  // ln2 - kLn2Hi
  const float kRound = 12582912.0f;      // 1.5 * 2^23: adding it rounds to an integer
  float xc = x < -87.3f ? -87.3f : x;
  float kr = xc * kLog2e + kRound;
  float k = kr - kRound;
  float f = xc - k * kLn2Hi;
  f = f - k * kLn2Lo;
  // e^f on |f| <= 0.347: Taylor to degree 7 is accurate to < 1e-8 relative.
  float poly = 1.0f / 5040.0f;
  poly = poly * f + 1.0f / 720.0f;
  poly = poly * f + 1.0f / 120.0f;
  poly = poly * f + 1.0f / 24.0f;
  poly = poly * f + 1.0f / 6.0f;
  poly = poly * f + 0.5f;
  poly = poly * f + 1.0f;
  poly = poly * f + 1.0f;
  int32_t ki = std::bit_cast<int32_t>(kr) - std::bit_cast<int32_t>(kRound);
  float scale = std::bit_cast<float>((ki + 127) << 23);
  float r = poly * scale;
  return x < -87.3f ? 0.0f : r;
}

}  // namespace tessera::ops
