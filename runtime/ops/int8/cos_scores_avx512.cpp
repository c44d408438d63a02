// AVX-512F contextual scores (compiled with -mavx512f; used with the VNNI kernel), for head widths
// d % 8 == 0 (others: the portable loop). 16 keys at a time: each key's d int16 go through 128-bit
// vpmaddwd against q (pair sums of two Q15 products stay below 2^31) and land in one 128-bit lane of one
// of four vectors (key 4L + m in lane L of vector m); two unpack-and-add rounds leave key 4L + m's dot
// product in int32 lane 4L + m. Wrapping int32 sums equal the exact ones (they fit: cos_scores.h).
// Then fixed_point.h's multiply_by_quantized_multiplier with one multiplier for all 16 lanes, step by step
// (as requantize_avx512.cpp, M ∈ [0, 2^31)). Tested bit-exact against the portable kernel.
#include <immintrin.h>

#include "ops/int8/cos_scores.h"

namespace tessera::ops::int8 {

namespace {

// round(a·M / 2^31) (SaturatingRoundingDoublingHighMul, M ≥ 0) on the low int32 of each 64-bit lane.
inline __m512i srdhm_even(__m512i a, __m512i mult) {
  const __m512i ab = _mm512_mul_epi32(a, mult);
  const __mmask8 negative = _mm512_cmplt_epi64_mask(ab, _mm512_setzero_si512());
  const __m512i nudge = _mm512_mask_blend_epi64(negative, _mm512_set1_epi64(int64_t(1) << 30),
                                                _mm512_set1_epi64(1 - (int64_t(1) << 30)));
  __m512i v = _mm512_add_epi64(ab, nudge);
  const __mmask8 v_negative = _mm512_cmplt_epi64_mask(v, _mm512_setzero_si512());
  v = _mm512_mask_add_epi64(v, v_negative, v, _mm512_set1_epi64((int64_t(1) << 31) - 1));  // truncate toward 0
  return _mm512_srai_epi64(v, 31);
}

inline __m512i requantize_uniform(__m512i x, QuantizedMultiplier m) {
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
  const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
  __m512i a = x;
  if (left > 0) {  // saturating left shift (a shift of 31 or more saturates every non-zero x)
    const __m128i l = _mm_cvtsi32_si128(left);
    a = _mm512_sll_epi32(x, l);
    const __mmask16 lost = _mm512_cmpneq_epi32_mask(_mm512_sra_epi32(a, l), x) | (left >= 31 ? __mmask16(0xFFFF) : 0);
    const __mmask16 x_negative = _mm512_cmplt_epi32_mask(x, zero);
    const __mmask16 x_zero = _mm512_cmpeq_epi32_mask(x, zero);
    a = _mm512_mask_mov_epi32(a, lost & ~x_zero, _mm512_mask_blend_epi32(x_negative, _mm512_set1_epi32(INT32_MAX),
                                                                         _mm512_set1_epi32(INT32_MIN)));
    a = _mm512_mask_mov_epi32(a, x_zero, zero);
  }
  const __m512i mult = _mm512_set1_epi64(m.multiplier);
  const __m512i even = srdhm_even(a, mult);
  const __m512i odd = srdhm_even(_mm512_srli_epi64(a, 32), mult);
  const __m512i h = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  if (right <= 0) return h;
  // RoundingDivideByPOT(h, right), right ≤ 31 (quantize_multiplier's range).
  const int32_t mask_s = int32_t((int64_t(1) << right) - 1);
  const __m512i mask = _mm512_set1_epi32(mask_s);
  const __m512i remainder = _mm512_and_si512(h, mask);
  const __mmask16 h_negative = _mm512_cmplt_epi32_mask(h, zero);
  const __m512i threshold = _mm512_mask_add_epi32(_mm512_set1_epi32(mask_s >> 1), h_negative,
                                                  _mm512_set1_epi32(mask_s >> 1), one);
  const __m512i q = _mm512_sra_epi32(h, _mm_cvtsi32_si128(right));
  return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(remainder, threshold), q, one);
}

}  // namespace

void cos_scores_avx512(const int16_t* q, const int16_t* k, int64_t n, int64_t stride, int64_t d,
                       QuantizedMultiplier mult, int32_t* scores) {
  if (d % 8 != 0 || d > 128 || mult.shift > 31 || mult.shift < -31) {  // quantize_multiplier stays in ±31
    cos_scores_portable(q, k, n, stride, d, mult, scores);
    return;
  }
  const int64_t chunks = d / 8;
  __m128i qc[16];
  for (int64_t c = 0; c < chunks; ++c) qc[c] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 8 * c));
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m512i v[4];
    for (int m = 0; m < 4; ++m) {
      __m128i lane[4];
      for (int L = 0; L < 4; ++L) {  // key 4L + m
        const int16_t* kj = k + (j + 4 * L + m) * stride;
        __m128i s = _mm_madd_epi16(qc[0], _mm_loadu_si128(reinterpret_cast<const __m128i*>(kj)));
        for (int64_t c = 1; c < chunks; ++c)
          s = _mm_add_epi32(s, _mm_madd_epi16(qc[c], _mm_loadu_si128(reinterpret_cast<const __m128i*>(kj + 8 * c))));
        lane[L] = s;
      }
      __m512i x = _mm512_castsi128_si512(lane[0]);
      x = _mm512_inserti32x4(x, lane[1], 1);
      x = _mm512_inserti32x4(x, lane[2], 2);
      v[m] = _mm512_inserti32x4(x, lane[3], 3);
    }
    const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
    const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
    const __m512i dots = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
    _mm512_storeu_si512(scores + j, requantize_uniform(dots, mult));
  }
  if (j < n) cos_scores_portable(q, k + j * stride, n - j, stride, d, mult, scores + j);
}

}  // namespace tessera::ops::int8
