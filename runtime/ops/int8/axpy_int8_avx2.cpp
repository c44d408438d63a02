// AVX2 weighted row sum (AVX2 and AVX-512 VNNI kernel tables). Columns go in
// blocks of 64 (then 8) whose int32 sums stay in registers while every row passes (a head of d = 64 is
// one block, d = 16 two narrow ones); each row: sign-extend 16 int8 at a time, vpmulld by a[k] (low 32
// bits, exact under axpy_int8.h's no-overflow contract), add. Same bits as the portable loop.
#include <immintrin.h>

#include "ops/int8/axpy_int8.h"

namespace tessera::ops::int8 {

void axpy_i8_avx2(const int32_t* a, const int8_t* v, int64_t rows, int64_t cols, int32_t* r) {
  const int64_t vec_cols = cols & ~int64_t(63);
  for (int64_t c0 = 0; c0 < vec_cols; c0 += 64) {
    __m256i acc[8];
    for (int j = 0; j < 8; ++j) acc[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + c0 + 8 * j));
    for (int64_t k = 0; k < rows; ++k) {
      if (a[k] == 0) continue;
      const __m256i w = _mm256_set1_epi32(a[k]);
      const int8_t* row = v + k * cols + c0;
      for (int j = 0; j < 4; ++j) {
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 16 * j));
        acc[2 * j] = _mm256_add_epi32(acc[2 * j], _mm256_mullo_epi32(_mm256_cvtepi8_epi32(b), w));
        acc[2 * j + 1] =
            _mm256_add_epi32(acc[2 * j + 1], _mm256_mullo_epi32(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)), w));
      }
    }
    for (int j = 0; j < 8; ++j) _mm256_storeu_si256(reinterpret_cast<__m256i*>(r + c0 + 8 * j), acc[j]);
  }
  // Narrower heads (d = 8, 16, 32, or the rest of a wide row): blocks of 8 columns, one register each.
  const int64_t cols8 = cols & ~int64_t(7);
  for (int64_t c0 = vec_cols; c0 < cols8; c0 += 8) {
    __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + c0));
    for (int64_t k = 0; k < rows; ++k) {
      if (a[k] == 0) continue;
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(v + k * cols + c0));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_cvtepi8_epi32(b), _mm256_set1_epi32(a[k])));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(r + c0), acc);
  }
  if (cols8 == cols) return;
  for (int64_t k = 0; k < rows; ++k) {  // column tail (< 8)
    const int32_t w = a[k];
    if (w == 0) continue;
    const int8_t* row = v + k * cols;
    for (int64_t c = cols8; c < cols; ++c) r[c] += w * int32_t(row[c]);
  }
}

}  // namespace tessera::ops::int8
