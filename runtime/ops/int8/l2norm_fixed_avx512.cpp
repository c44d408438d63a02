// AVX-512 per-head L2 normalisation (in the AVX-512 VNNI kernel table): l2norm_fixed.cpp
// on 16 lanes per step (masked for the last chunk of a head: d = 24 is 16 + 8). For heads whose
// max |v| < 2^24 (the portable kernel's shift is then 0) Σ v² (each < 2^48) is summed in int64 lanes,
// the reciprocal square root is the same scalar call, and each output is rounding_shift_right_64(v·m,
// e - 15) (ties away from zero: on |v·m|, sign restored) saturated to ±32767. Heads outside that range,
// or with an exponent the vector shift does not cover, run the portable kernel. Same bits.
#include <immintrin.h>

#include "ops/int8/fixed_point.h"
#include "ops/int8/l2norm_fixed.h"

namespace tessera::ops::int8 {

namespace {

inline __mmask16 chunk_mask(int64_t left) { return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1); }

// round(v·m / 2^s) ties away from zero, saturated to ±32767, for 8 int32 lanes widened to int64.
inline __m128i scale_lanes(__m256i v32, __m512i m, __m128i s, __m512i half) {
  const __m512i v = _mm512_cvtepi32_epi64(v32);
  const __m512i p = _mm512_mul_epi32(v, m);  // |v| < 2^24, m < 2^31: exact
  const __mmask8 negative = _mm512_cmplt_epi64_mask(p, _mm512_setzero_si512());
  __m512i q = _mm512_srl_epi64(_mm512_add_epi64(_mm512_abs_epi64(p), half), s);
  q = _mm512_min_epi64(q, _mm512_set1_epi64(32767));
  q = _mm512_mask_sub_epi64(q, negative, _mm512_setzero_si512(), q);
  return _mm512_cvtepi64_epi16(q);
}

}  // namespace

void l2norm_fixed_q15_avx512(const int32_t* v, int64_t n_head, int64_t head_dim, int16_t* out) {
  for (int64_t h = 0; h < n_head; ++h) {
    const int32_t* x = v + h * head_dim;
    int16_t* y = out + h * head_dim;
    __m512i vmax = _mm512_setzero_si512();
    for (int64_t i = 0; i < head_dim; i += 16)
      vmax = _mm512_max_epu32(vmax, _mm512_abs_epi32(_mm512_maskz_loadu_epi32(chunk_mask(head_dim - i), x + i)));
    // |INT32_MIN| stays 2^31 as an unsigned lane: caught by the bound below like any other large value.
    const __mmask16 big = _mm512_cmpge_epu32_mask(vmax, _mm512_set1_epi32(1 << 24));
    if (big != 0) {
      l2norm_fixed_q15(x, 1, head_dim, y);
      continue;
    }
    __m512i sq = _mm512_setzero_si512();
    for (int64_t i = 0; i < head_dim; i += 16) {
      const __m512i c = _mm512_maskz_loadu_epi32(chunk_mask(head_dim - i), x + i);
      const __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(c));
      const __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(c, 1));
      sq = _mm512_add_epi64(sq, _mm512_add_epi64(_mm512_mul_epi32(lo, lo), _mm512_mul_epi32(hi, hi)));
    }
    alignas(64) uint64_t lanes[8];
    _mm512_store_si512(lanes, sq);
    uint64_t sumsq = 0;
    for (int l = 0; l < 8; ++l) sumsq += lanes[l];
    if (sumsq == 0) {  // max |v| = 0 too: zeros, as the portable kernel
      for (int64_t i = 0; i < head_dim; ++i) y[i] = 0;
      continue;
    }
    const ReciprocalSqrt inv = reciprocal_sqrt(sumsq);
    const int s = inv.exponent - 15;
    if (s <= 0 || s >= 63) {  // rounding_shift_right_64's other branches: not needed by unit-norm heads
      l2norm_fixed_q15(x, 1, head_dim, y);
      continue;
    }
    const __m512i m = _mm512_set1_epi64(inv.mantissa), half = _mm512_set1_epi64(int64_t(1) << (s - 1));
    const __m128i sv = _mm_cvtsi32_si128(s);
    for (int64_t i = 0; i < head_dim; i += 8) {
      const int64_t left = head_dim - i;
      const __mmask8 k = left >= 8 ? __mmask8(0xFF) : __mmask8((1u << left) - 1);
      const __m128i o = scale_lanes(_mm256_maskz_loadu_epi32(k, x + i), m, sv, half);
      _mm_mask_storeu_epi16(y + i, k, o);
    }
  }
}

}  // namespace tessera::ops::int8
