// AVX-512F per-value requantisation (compiled with -mavx512f; used with the VNNI kernel): 16 lanes of
// exactly fixed_point.h's multiply_by_quantized_multiplier, step by step —
//   saturating left shift (vpsllvd, saturated where shifting back does not restore x),
//   SaturatingRoundingDoublingHighMul: 64-bit products (vpmuldq on even lanes, then the odd lanes shifted
//   down), + nudge (2^30 or 1 − 2^30 by sign), division by 2^31 truncating toward zero (bias negative
//   values by 2^31 − 1 before the arithmetic shift); M ∈ [0, 2^31) so the INT32_MIN² case cannot occur,
//   RoundingDivideByPOT with per-lane exponents (vpsravd; mask, remainder, threshold as in gemmlowp).
// Shifts from quantize_multiplier lie in [-31, 31] (groups with others take the scalar functions). The same
// lanes serve the per-slot requantize_each and the projections' per-row requantize_to_int32 /
// requantize_add_to_int32 (bias and residual added with int32 saturation). Tested bit-exact against the
// scalar functions (tests/int8/matvec_wide_test.cpp, requantize64_test.cpp).
#include <immintrin.h>

#include "ops/int8/mbqm_avx512.h"
#include "ops/int8/requantize.h"

namespace tessera::ops::int8 {

namespace {

using avx512::mbqm16;

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

// saturate_to_int32(int64(a) + b) on 16 lanes: the wrapped sum, replaced where both operands share a sign
// the sum lacks.
inline __m512i saturating_add32(__m512i a, __m512i b) {
  const __m512i sum = _mm512_add_epi32(a, b);
  const __mmask16 overflow =
      _mm512_cmplt_epi32_mask(_mm512_and_si512(_mm512_xor_si512(a, sum), _mm512_xor_si512(b, sum)), _mm512_setzero_si512());
  const __m512i bound = _mm512_mask_blend_epi32(_mm512_cmplt_epi32_mask(a, _mm512_setzero_si512()),
                                                _mm512_set1_epi32(INT32_MAX), _mm512_set1_epi32(INT32_MIN));
  return _mm512_mask_mov_epi32(sum, overflow, bound);
}

inline __m512i biased(const int32_t* acc, const int32_t* bias, int64_t i) {
  const __m512i a = _mm512_loadu_si512(acc + i);
  return bias ? saturating_add32(a, _mm512_loadu_si512(bias + i)) : a;
}

}  // namespace

void requantize_each_avx512(const int32_t* x, const QuantizedMultiplier* m, int64_t n, int32_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i mult, shift;
    if (!load_pairs(m + i, &mult, &shift)) {
      requantize_each_portable(x + i, m + i, 16, out + i);
      continue;
    }
    const __m512i xv = _mm512_loadu_si512(x + i);
    const __mmask16 simple = _mm512_cmpge_epi32_mask(xv, _mm512_setzero_si512()) &
                             _mm512_cmple_epi32_mask(shift, _mm512_setzero_si512());
    _mm512_storeu_si512(out + i, simple == 0xFFFF ? mbqm16_nonnegative(xv, mult, shift) : mbqm16(xv, mult, shift));
  }
  for (; i < n; ++i) out[i] = multiply_by_quantized_multiplier(x[i], m[i]);
}

void requantize_to_int32_avx512(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                int32_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i mult, shift;
    if (!load_pairs(m + i, &mult, &shift)) {
      requantize_to_int32(acc + i, m + i, bias ? bias + i : nullptr, 16, out + i);
      continue;
    }
    _mm512_storeu_si512(out + i, mbqm16(biased(acc, bias, i), mult, shift));
  }
  if (i < n) requantize_to_int32(acc + i, m + i, bias ? bias + i : nullptr, n - i, out + i);
}

void requantize_add_to_int32_avx512(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias,
                                    int64_t n, int32_t* residual) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i mult, shift;
    if (!load_pairs(m + i, &mult, &shift)) {
      requantize_add_to_int32(acc + i, m + i, bias ? bias + i : nullptr, 16, residual + i);
      continue;
    }
    const __m512i q = mbqm16(biased(acc, bias, i), mult, shift);
    _mm512_storeu_si512(residual + i, saturating_add32(_mm512_loadu_si512(residual + i), q));
  }
  if (i < n) requantize_add_to_int32(acc + i, m + i, bias ? bias + i : nullptr, n - i, residual + i);
}

}  // namespace tessera::ops::int8
