// AVX-512F lanes of fixed_point.h's multiply_by_quantized_multiplier, shared by the AVX-512 table's kernels
// (requantize_avx512.cpp, cos_scores_avx512.cpp, pmem_weights_avx512.cpp); include only from files compiled
// for that table. Multipliers lie in [0, 2^31) and shifts in [-31, 31] (quantize_multiplier's range;
// callers check or guarantee it).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8::avx512 {

// SRDHM on the 64-bit lanes' low halves (a, b sign-extended by vpmuldq): returns the int32 result in the
// low half of each 64-bit lane.
inline __m512i srdhm_even(__m512i a, __m512i b) {
  const __m512i ab = _mm512_mul_epi32(a, b);
  const __mmask8 negative = _mm512_cmplt_epi64_mask(ab, _mm512_setzero_si512());
  const __m512i nudge =
      _mm512_mask_blend_epi64(negative, _mm512_set1_epi64(int64_t(1) << 30), _mm512_set1_epi64(1 - (int64_t(1) << 30)));
  __m512i v = _mm512_add_epi64(ab, nudge);
  const __mmask8 v_negative = _mm512_cmplt_epi64_mask(v, _mm512_setzero_si512());
  v = _mm512_mask_add_epi64(v, v_negative, v, _mm512_set1_epi64((int64_t(1) << 31) - 1));  // truncate toward 0
  return _mm512_srai_epi64(v, 31);
}

// multiply_by_quantized_multiplier on 16 lanes, one multiplier each.
inline __m512i mbqm16(__m512i xv, __m512i mult, __m512i shift) {
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
  const __m512i left = _mm512_max_epi32(shift, zero), right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
  // Saturating left shift.
  __m512i a = _mm512_sllv_epi32(xv, left);
  const __mmask16 lost = _mm512_cmpneq_epi32_mask(_mm512_srav_epi32(a, left), xv);
  const __mmask16 x_negative = _mm512_cmplt_epi32_mask(xv, zero);
  a = _mm512_mask_mov_epi32(a, lost,
                            _mm512_mask_blend_epi32(x_negative, _mm512_set1_epi32(INT32_MAX),
                                                    _mm512_set1_epi32(INT32_MIN)));
  // SRDHM: even lanes directly, odd lanes moved down.
  const __m512i even = srdhm_even(a, mult);
  const __m512i odd = srdhm_even(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(mult, 32));
  const __m512i h = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  // RoundingDivideByPOT.
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
  const __m512i remainder = _mm512_and_si512(h, mask);
  const __mmask16 h_negative = _mm512_cmplt_epi32_mask(h, zero);
  const __m512i threshold =
      _mm512_mask_add_epi32(_mm512_srai_epi32(mask, 1), h_negative, _mm512_srai_epi32(mask, 1), one);
  const __m512i q = _mm512_srav_epi32(h, right);
  const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, threshold);
  return _mm512_mask_add_epi32(q, up, q, one);
}

// The 16 {multiplier, shift} pairs at m as two vectors; false when a shift lies outside [-31, 31] (never from
// quantize_multiplier: those groups take the scalar function).
inline bool load_pairs(const QuantizedMultiplier* m, __m512i* mult, __m512i* shift) {
  const __m512i even_idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd_idx = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i p0 = _mm512_loadu_si512(reinterpret_cast<const int32_t*>(m));
  const __m512i p1 = _mm512_loadu_si512(reinterpret_cast<const int32_t*>(m + 8));
  *mult = _mm512_permutex2var_epi32(p0, even_idx, p1);
  *shift = _mm512_permutex2var_epi32(p0, odd_idx, p1);
  const __mmask16 ok = _mm512_cmple_epi32_mask(_mm512_abs_epi32(*shift), _mm512_set1_epi32(31)) &
                       _mm512_cmpge_epi32_mask(*mult, _mm512_setzero_si512());
  return ok == 0xFFFF;
}

// The same for x ≥ 0 and shift ≤ 0 in every lane (the softmax weights' requantisation, and most score
// groups): no left shift, the high-mul's nudge is always 2^30 and its quotient a floor, and
// RoundingDivideByPOT of h ≥ 0 is (h + 2^(e-1)) >> e, which h < 2^31 keeps inside uint32. Same bits.
inline __m512i mbqm16_nonnegative(__m512i xv, __m512i mult, __m512i shift) {
  const __m512i nudge = _mm512_set1_epi64(int64_t(1) << 30);
  const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epu32(xv, mult), nudge), 31);
  const __m512i odd = _mm512_srli_epi64(
      _mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(xv, 32), _mm512_srli_epi64(mult, 32)), nudge), 31);
  const __m512i h = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  const __m512i right = _mm512_sub_epi32(_mm512_setzero_si512(), shift);
  const __m512i half = _mm512_srli_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), right), 1);  // 0 for e = 0
  return _mm512_srlv_epi32(_mm512_add_epi32(h, half), right);
}

// out[l] = multiply_by_quantized_multiplier(x[l], m[l]) for 16 lanes: the short path where every x ≥ 0 and every
// shift ≤ 0, the general lanes otherwise, the scalar function where a group's shifts leave [-31, 31].
inline void requantize_each16(__m512i xv, const QuantizedMultiplier* m, int32_t* out) {
  __m512i mult, shift;
  if (!load_pairs(m, &mult, &shift)) {
    alignas(64) int32_t x[16];
    _mm512_store_si512(x, xv);
    for (int l = 0; l < 16; ++l) out[l] = multiply_by_quantized_multiplier(x[l], m[l]);
    return;
  }
  const __mmask16 simple = _mm512_cmpge_epi32_mask(xv, _mm512_setzero_si512()) &
                           _mm512_cmple_epi32_mask(shift, _mm512_setzero_si512());
  _mm512_storeu_si512(out, simple == 0xFFFF ? mbqm16_nonnegative(xv, mult, shift) : mbqm16(xv, mult, shift));
}

}  // namespace tessera::ops::int8::avx512
