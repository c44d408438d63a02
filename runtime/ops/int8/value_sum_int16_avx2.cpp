// AVX2 attention value sum (in the AVX2 kernel table). Columns in
// blocks of 32 (then 4) whose int64 sums stay in registers across all rows; int16 → int64 sign extension,
// then vpmuldq (signed 32×32 → 64 on each 64-bit lane: exact for |p| ≤ 2^23, |v| ≤ 2^15). Same bits
// as the portable loop (exact int64 sums).
#include <immintrin.h>

#include "ops/int8/value_sum_int16.h"

namespace tessera::ops::int8 {

void value_sum_i16_avx2(const int32_t* p, const int16_t* v, int64_t rows, int64_t stride, int64_t cols, int64_t* out) {
  const int64_t vec_cols = cols & ~int64_t(31);
  for (int64_t c0 = 0; c0 < vec_cols; c0 += 32) {
    __m256i acc[8];
    for (int k = 0; k < 8; ++k) acc[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out + c0 + 4 * k));
    for (int64_t j = 0; j < rows; ++j) {
      if (p[j] == 0) continue;
      const __m256i w = _mm256_set1_epi64x(p[j]);
      const int16_t* row = v + j * stride + c0;
      for (int k = 0; k < 8; ++k) {
        const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + 4 * k));  // 4 int16
        acc[k] = _mm256_add_epi64(acc[k], _mm256_mul_epi32(_mm256_cvtepi16_epi64(x), w));
      }
    }
    for (int k = 0; k < 8; ++k) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c0 + 4 * k), acc[k]);
  }
  // Narrower heads (d = 8, 16, or the rest of a wide row): blocks of 4 columns, one register each.
  const int64_t cols4 = cols & ~int64_t(3);
  for (int64_t c0 = vec_cols; c0 < cols4; c0 += 4) {
    __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out + c0));
    for (int64_t j = 0; j < rows; ++j) {
      if (p[j] == 0) continue;
      const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(v + j * stride + c0));
      acc = _mm256_add_epi64(acc, _mm256_mul_epi32(_mm256_cvtepi16_epi64(x), _mm256_set1_epi64x(p[j])));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c0), acc);
  }
  if (cols4 == cols) return;
  for (int64_t j = 0; j < rows; ++j) {  // column tail (< 4)
    const int64_t w = p[j];
    const int16_t* row = v + j * stride;
    for (int64_t i = cols4; i < cols; ++i) out[i] += w * row[i];
  }
}

}  // namespace tessera::ops::int8
