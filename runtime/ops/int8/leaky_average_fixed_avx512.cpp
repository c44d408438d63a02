// AVX-512F per-head mixes (in the AVX-512 VNNI kernel table): mix_heads_fixed on 8 int64
// lanes — vpmuldq gives the exact signed 32 × 32 products, the sum fits 64 bits (the contract), the rounding is
// fixed_point.h's rounding_shift_right_64 (half away from zero: on |sum|, sign restored) and vpmovsqd is
// saturate_to_int32. Tested bit-exact against the portable loop (tests/int8/fixed_ops_test.cpp).
#include <immintrin.h>

#include "ops/int8/fixed_point.h"
#include "ops/int8/leaky_average_fixed.h"

namespace tessera::ops::int8 {

void mix_heads_fixed_avx512(const int32_t* x, const int32_t* y, const int32_t* a, const int32_t* b, int frac_bits,
                            int64_t n_head, int64_t head_dim, int32_t* out) {
  const __m128i shift = _mm_cvtsi32_si128(frac_bits);
  const __m512i half = _mm512_set1_epi64(int64_t(1) << (frac_bits - 1)), zero = _mm512_setzero_si512();
  for (int64_t h = 0; h < n_head; ++h) {
    const __m512i av = _mm512_set1_epi64(a[h]), bv = _mm512_set1_epi64(b[h]);
    const int64_t begin = h * head_dim, end = begin + head_dim;
    int64_t i = begin;
    for (; i + 8 <= end; i += 8) {
      const __m512i xv = _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
      const __m512i yv = _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y + i)));
      const __m512i sum = _mm512_add_epi64(_mm512_mul_epi32(av, xv), _mm512_mul_epi32(bv, yv));
      const __m512i mag = _mm512_srl_epi64(_mm512_add_epi64(_mm512_abs_epi64(sum), half), shift);
      const __mmask8 negative = _mm512_cmplt_epi64_mask(sum, zero);
      const __m512i rounded = _mm512_mask_sub_epi64(mag, negative, zero, mag);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtsepi64_epi32(rounded));
    }
    for (; i < end; ++i)
      out[i] = saturate_to_int32(rounding_shift_right_64(int64_t(a[h]) * x[i] + int64_t(b[h]) * y[i], frac_bits));
  }
}

}  // namespace tessera::ops::int8
