// AVX-512F requantisation of int64 accumulators (in the AVX-512 VNNI kernel table): 8
// lanes of exactly fixed_point.h's multiply_by_quantized_multiplier_64, step by step — |x|·M as a 96-bit
// (hi, lo) pair from two vpmuludq (|x| < 2^63, M < 2^31), + 2^(r-1), shift right by r = 31 - shift, saturate
// to ±INT32_MAX, sign restored. Groups holding a lane with r outside [1, 63] (multipliers ≥ 2^31 or below
// 2^-32: never from quantize_multiplier in practice) take the scalar function. The int8 forward pass's wide
// projections (int16 weights or activations) and the persistent memory's int16 M_k scores go through it.
// Tested bit-exact against the scalar functions (tests/int8/requantize64_test.cpp).
#include <immintrin.h>

#include "ops/int8/requantize.h"

namespace tessera::ops::int8 {

namespace {

// m holds 8 {multiplier, shift} pairs: multipliers in the low, shifts in the high int32 of each int64.
inline bool lanes_in_range(const QuantizedMultiplier* m, __m512i* mult, __m512i* r) {
  const __m512i pairs = _mm512_loadu_si512(reinterpret_cast<const int32_t*>(m));
  *mult = _mm512_and_si512(pairs, _mm512_set1_epi64(0xFFFFFFFF));  // M ≥ 0 (checked below)
  *r = _mm512_sub_epi64(_mm512_set1_epi64(31), _mm512_srai_epi64(pairs, 32));
  const __m512i signed_mult = _mm512_srai_epi64(_mm512_slli_epi64(pairs, 32), 32);
  const __mmask8 ok = _mm512_cmpge_epi64_mask(*r, _mm512_set1_epi64(1)) &
                      _mm512_cmple_epi64_mask(*r, _mm512_set1_epi64(63)) &
                      _mm512_cmpge_epi64_mask(signed_mult, _mm512_setzero_si512());
  return ok == 0xFF;
}

// multiply_by_quantized_multiplier_64(x, m) on 8 lanes, as int64 in [-INT32_MAX, INT32_MAX]; r ∈ [1, 63].
inline __m512i mbqm64(__m512i x, __m512i mult, __m512i r) {
  const __m512i one = _mm512_set1_epi64(1);
  const __mmask8 negative = _mm512_cmplt_epi64_mask(x, _mm512_setzero_si512());
  const __m512i ax = _mm512_abs_epi64(x);
  const __m512i p0 = _mm512_mul_epu32(ax, mult);                         // < 2^63
  const __m512i p1 = _mm512_mul_epu32(_mm512_srli_epi64(ax, 32), mult);  // < 2^63
  __m512i lo = _mm512_add_epi64(p0, _mm512_slli_epi64(p1, 32));
  __m512i hi =
      _mm512_mask_add_epi64(_mm512_srli_epi64(p1, 32), _mm512_cmplt_epu64_mask(lo, p0), _mm512_srli_epi64(p1, 32), one);
  const __m512i before = lo;
  lo = _mm512_add_epi64(lo, _mm512_sllv_epi64(one, _mm512_sub_epi64(r, one)));  // + 2^(r-1)
  hi = _mm512_mask_add_epi64(hi, _mm512_cmplt_epu64_mask(lo, before), hi, one);
  const __mmask8 saturated = _mm512_cmpneq_epi64_mask(_mm512_srlv_epi64(hi, r), _mm512_setzero_si512());
  __m512i q =
      _mm512_or_si512(_mm512_srlv_epi64(lo, r), _mm512_sllv_epi64(hi, _mm512_sub_epi64(_mm512_set1_epi64(64), r)));
  q = _mm512_min_epu64(q, _mm512_set1_epi64(INT32_MAX));
  q = _mm512_mask_mov_epi64(q, saturated, _mm512_set1_epi64(INT32_MAX));
  return _mm512_mask_sub_epi64(q, negative, _mm512_setzero_si512(), q);
}

inline __m512i biased(const int64_t* acc, const int32_t* bias, int64_t i) {
  const __m512i a = _mm512_loadu_si512(acc + i);
  if (!bias) return a;
  return _mm512_add_epi64(a, _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + i))));
}

}  // namespace

void requantize64_to_int32_avx512(const int64_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                  int32_t* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512i mult, r;
    if (!lanes_in_range(m + i, &mult, &r)) {
      requantize64_to_int32(acc + i, m + i, bias ? bias + i : nullptr, 8, out + i);
      continue;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm512_cvtepi64_epi32(mbqm64(biased(acc, bias, i), mult, r)));
  }
  if (i < n) requantize64_to_int32(acc + i, m + i, bias ? bias + i : nullptr, n - i, out + i);
}

void requantize64_add_to_int32_avx512(const int64_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                      int32_t* residual) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512i mult, r;
    if (!lanes_in_range(m + i, &mult, &r)) {
      requantize64_add_to_int32(acc + i, m + i, bias ? bias + i : nullptr, 8, residual + i);
      continue;
    }
    __m256i* res = reinterpret_cast<__m256i*>(residual + i);
    const __m512i sum =
        _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm256_loadu_si256(res)), mbqm64(biased(acc, bias, i), mult, r));
    _mm256_storeu_si256(res, _mm512_cvtsepi64_epi32(sum));  // saturate_to_int32
  }
  if (i < n) requantize64_add_to_int32(acc + i, m + i, bias ? bias + i : nullptr, n - i, residual + i);
}

}  // namespace tessera::ops::int8
