// The entmax polish's power sums (fixed_math.h): every Newton step of entmax_fixed.cpp sums y^r and
// r·y^(r-1) over the whole support, the kernel's hottest loop on dense rows. With y ≤ 2^31 every
// product is 32 × 32 → 64 bits, so on x86-64 an AVX2 variant (vpmuludq on 4 lanes, exact) is chosen
// at run time (AVX-512F, 8 lanes, where present); the portable loop is the reference and the only code on other
// targets. Integer sums are exact, so the lane order does not change the result.
#include "ops/fixed/fixed_math.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TESSERA_ENTMAX_SUMS_AVX2 1
#endif

namespace tessera::ops::fixed {

void entmax_power_sums_q31_portable(int r, const uint32_t* d, size_t k, uint64_t t, uint64_t* mass, uint64_t* slope) {
  uint64_t m = 0, s = 0;
  for (size_t j = 0; j < k; ++j) {
    const uint64_t y = t - (static_cast<uint64_t>(d[j]) << 11);
    const uint64_t y2 = (y * y) >> 31;
    m += r == 2 ? y2 : (y2 * y) >> 31;
    s += r == 2 ? 2 * y : 3 * y2;
  }
  *mass = m;
  *slope = s;
}

#if defined(TESSERA_ENTMAX_SUMS_AVX2)
namespace {

__attribute__((target("avx2"))) void power_sums_avx2(int r, const uint32_t* d, size_t k, uint64_t t, uint64_t* mass,
                                                     uint64_t* slope) {
  const __m256i tv = _mm256_set1_epi64x(static_cast<int64_t>(t));
  __m256i m = _mm256_setzero_si256(), s = _mm256_setzero_si256();
  size_t j = 0;
  for (; j + 4 <= k; j += 4) {
    const __m256i dv = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d + j)));
    const __m256i y = _mm256_sub_epi64(tv, _mm256_slli_epi64(dv, 11));  // ≤ 2^31: fits vpmuludq's 32 bits
    const __m256i y2 = _mm256_srli_epi64(_mm256_mul_epu32(y, y), 31);   // ≤ 2^31
    if (r == 2) {
      m = _mm256_add_epi64(m, y2);
      s = _mm256_add_epi64(s, _mm256_add_epi64(y, y));
    } else {
      m = _mm256_add_epi64(m, _mm256_srli_epi64(_mm256_mul_epu32(y2, y), 31));
      s = _mm256_add_epi64(s, _mm256_add_epi64(y2, _mm256_add_epi64(y2, y2)));
    }
  }
  alignas(32) uint64_t lanes_m[4], lanes_s[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes_m), m);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes_s), s);
  uint64_t tail_m, tail_s;
  entmax_power_sums_q31_portable(r, d + j, k - j, t, &tail_m, &tail_s);
  *mass = lanes_m[0] + lanes_m[1] + lanes_m[2] + lanes_m[3] + tail_m;
  *slope = lanes_s[0] + lanes_s[1] + lanes_s[2] + lanes_s[3] + tail_s;
}

// The same on 8 lanes (AVX-512F), where the CPU has it.
#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 false positive inside avx512fintrin.h
#endif
__attribute__((target("avx512f"))) void power_sums_avx512(int r, const uint32_t* d, size_t k, uint64_t t,
                                                          uint64_t* mass, uint64_t* slope) {
  const __m512i tv = _mm512_set1_epi64(static_cast<int64_t>(t));
  __m512i m = _mm512_setzero_si512(), s = _mm512_setzero_si512();
  size_t j = 0;
  for (; j + 8 <= k; j += 8) {
    const __m512i dv = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + j)));
    const __m512i y = _mm512_sub_epi64(tv, _mm512_slli_epi64(dv, 11));
    const __m512i y2 = _mm512_srli_epi64(_mm512_mul_epu32(y, y), 31);
    if (r == 2) {
      m = _mm512_add_epi64(m, y2);
      s = _mm512_add_epi64(s, _mm512_add_epi64(y, y));
    } else {
      m = _mm512_add_epi64(m, _mm512_srli_epi64(_mm512_mul_epu32(y2, y), 31));
      s = _mm512_add_epi64(s, _mm512_add_epi64(y2, _mm512_add_epi64(y2, y2)));
    }
  }
  alignas(64) uint64_t lanes_m[8], lanes_s[8];
  _mm512_store_si512(lanes_m, m);
  _mm512_store_si512(lanes_s, s);
  uint64_t tail_m, tail_s;
  entmax_power_sums_q31_portable(r, d + j, k - j, t, &tail_m, &tail_s);
  for (int l = 0; l < 8; ++l) {
    tail_m += lanes_m[l];
    tail_s += lanes_s[l];
  }
  *mass = tail_m;
  *slope = tail_s;
}
#pragma GCC diagnostic pop

}  // namespace
#endif

void entmax_power_sums_q31(int r, const uint32_t* d, size_t k, uint64_t t, uint64_t* mass, uint64_t* slope) {
#if defined(TESSERA_ENTMAX_SUMS_AVX2)
  if (__builtin_cpu_supports("avx512f")) {
    power_sums_avx512(r, d, k, t, mass, slope);
    return;
  }
  if (__builtin_cpu_supports("avx2")) {
    power_sums_avx2(r, d, k, t, mass, slope);
    return;
  }
#endif
  entmax_power_sums_q31_portable(r, d, k, t, mass, slope);
}

}  // namespace tessera::ops::fixed
