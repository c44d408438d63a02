// AVX-512F per-value requantisation (in the AVX-512 VNNI kernel table): 16 lanes of
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

using avx512::load_pairs;
using avx512::mbqm16;

// saturate_to_int32(int64(a) + b) on 16 lanes: the wrapped sum, replaced where both operands share a sign
// the sum lacks.
inline __m512i saturating_add32(__m512i a, __m512i b) {
  const __m512i sum = _mm512_add_epi32(a, b);
  const __mmask16 overflow =
      _mm512_cmplt_epi32_mask(_mm512_and_si512(_mm512_xor_si512(a, sum), _mm512_xor_si512(b, sum)),
                              _mm512_setzero_si512());
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
  for (; i + 16 <= n; i += 16) avx512::requantize_each16(_mm512_loadu_si512(x + i), m + i, out + i);
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

void requantize_add_to_int32_avx512(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                    int32_t* residual) {
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

namespace {

// MBQM(x, m) clamped to [-bound, bound] on 16 lanes (m's shift in [-31, 31]: uniform_in_range).
inline __m512i uniform16(const int32_t* x, QuantizedMultiplier m, int32_t bound) {
  const __m512i q = mbqm16(_mm512_loadu_si512(x), _mm512_set1_epi32(m.multiplier), _mm512_set1_epi32(m.shift));
  return _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(-bound)), _mm512_set1_epi32(bound));
}

bool uniform_in_range(QuantizedMultiplier m) { return m.shift >= -31 && m.shift <= 31 && m.multiplier >= 0; }

}  // namespace

void requantize_uniform_to_int8_avx512(const int32_t* x, QuantizedMultiplier m, int64_t n, int8_t* out) {
  int64_t i = 0;
  if (uniform_in_range(m))
    for (; i + 16 <= n; i += 16) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(uniform16(x + i, m, 127)));
    }
  if (i < n) requantize_uniform_to_int8(x + i, m, n - i, out + i);
}

void requantize_uniform_to_wide_avx512(const int32_t* x, QuantizedMultiplier m, int64_t n, int16_t* out) {
  int64_t i = 0;
  if (uniform_in_range(m))
    for (; i + 16 <= n; i += 16) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtepi32_epi16(uniform16(x + i, m, kWideMax)));
    }
  if (i < n) requantize_uniform_to_wide(x + i, m, n - i, out + i);
}

}  // namespace tessera::ops::int8
