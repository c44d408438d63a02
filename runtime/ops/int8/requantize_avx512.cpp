// AVX-512F per-value requantisation (compiled with -mavx512f; used with the VNNI kernel): 16 lanes of
// exactly fixed_point.h's multiply_by_quantized_multiplier, step by step —
//   saturating left shift (vpsllvd, saturated where shifting back does not restore x),
//   SaturatingRoundingDoublingHighMul: 64-bit products (vpmuldq on even lanes, then the odd lanes shifted
//   down), + nudge (2^30 or 1 − 2^30 by sign), division by 2^31 truncating toward zero (bias negative
//   values by 2^31 − 1 before the arithmetic shift); M ∈ [0, 2^31) so the INT32_MIN² case cannot occur,
//   RoundingDivideByPOT with per-lane exponents (vpsravd; mask, remainder, threshold as in gemmlowp).
// Shifts from quantize_multiplier lie in [-31, 31]. Tested bit-exact against the scalar function.
#include <immintrin.h>

#include "ops/int8/requantize.h"

namespace tessera::ops::int8 {

namespace {

// SRDHM on the 64-bit lanes' low halves (a, b sign-extended by vpmuldq): returns the int32 result in the
// low half of each 64-bit lane.
inline __m512i srdhm_even(__m512i a, __m512i b) {
  const __m512i ab = _mm512_mul_epi32(a, b);
  const __mmask8 negative = _mm512_cmplt_epi64_mask(ab, _mm512_setzero_si512());
  const __m512i nudge = _mm512_mask_blend_epi64(negative, _mm512_set1_epi64(int64_t(1) << 30),
                                                _mm512_set1_epi64(1 - (int64_t(1) << 30)));
  __m512i v = _mm512_add_epi64(ab, nudge);
  const __mmask8 v_negative = _mm512_cmplt_epi64_mask(v, _mm512_setzero_si512());
  v = _mm512_mask_add_epi64(v, v_negative, v, _mm512_set1_epi64((int64_t(1) << 31) - 1));  // truncate toward 0
  return _mm512_srai_epi64(v, 31);
}

}  // namespace

void requantize_each_avx512(const int32_t* x, const QuantizedMultiplier* m, int64_t n, int32_t* out) {
  // m is {multiplier, shift} pairs: two loads of 16 ints deinterleave into 16 multipliers and 16 shifts.
  const __m512i even_idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd_idx = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i p0 = _mm512_loadu_si512(reinterpret_cast<const int32_t*>(m + i));
    const __m512i p1 = _mm512_loadu_si512(reinterpret_cast<const int32_t*>(m + i + 8));
    const __m512i mult = _mm512_permutex2var_epi32(p0, even_idx, p1);
    const __m512i shift = _mm512_permutex2var_epi32(p0, odd_idx, p1);
    const __m512i xv = _mm512_loadu_si512(x + i);
    const __m512i left = _mm512_max_epi32(shift, zero), right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
    // Saturating left shift.
    __m512i a = _mm512_sllv_epi32(xv, left);
    const __mmask16 lost = _mm512_cmpneq_epi32_mask(_mm512_srav_epi32(a, left), xv);
    const __mmask16 x_negative = _mm512_cmplt_epi32_mask(xv, zero);
    a = _mm512_mask_mov_epi32(a, lost, _mm512_mask_blend_epi32(x_negative, _mm512_set1_epi32(INT32_MAX),
                                                                _mm512_set1_epi32(INT32_MIN)));
    // SRDHM: even lanes directly, odd lanes moved down.
    const __m512i even = srdhm_even(a, mult);
    const __m512i odd = srdhm_even(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(mult, 32));
    const __m512i h = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    // RoundingDivideByPOT.
    const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
    const __m512i remainder = _mm512_and_si512(h, mask);
    const __mmask16 h_negative = _mm512_cmplt_epi32_mask(h, zero);
    const __m512i threshold = _mm512_mask_add_epi32(_mm512_srai_epi32(mask, 1), h_negative, _mm512_srai_epi32(mask, 1), one);
    const __m512i q = _mm512_srav_epi32(h, right);
    const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, threshold);
    _mm512_storeu_si512(out + i, _mm512_mask_add_epi32(q, up, q, one));
  }
  for (; i < n; ++i) out[i] = multiply_by_quantized_multiplier(x[i], m[i]);
}

}  // namespace tessera::ops::int8
