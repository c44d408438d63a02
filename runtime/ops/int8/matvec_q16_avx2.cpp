// AVX2 int8 × int16 matvec (in the AVX2 kernel table): 16 weights sign-extended to int16, vpmaddwd with the
// query (exact pairwise int32, matvec_q16.h), 4 rows per pass so each query load is shared.
#include <immintrin.h>

#include "ops/int8/matvec_q16.h"

namespace tessera::ops::int8 {

static inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

void matvec_q16_avx2(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y) {
  const int64_t vec_cols = cols & ~int64_t(15);
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    const int8_t* w0 = w + r * cols;
    for (int64_t c = 0; c < vec_cols; c += 16) {
      const __m256i qv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + c));
      for (int k = 0; k < 4; ++k) {
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w0 + k * cols + c));
        acc[k] = _mm256_add_epi32(acc[k], _mm256_madd_epi16(_mm256_cvtepi8_epi16(b), qv));
      }
    }
    int64_t done = vec_cols;
    if (cols - vec_cols >= 8) {  // an 8-wide step (heads of d = 8, 24, ...) in the low 128 bits
      const __m128i qv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + vec_cols));
      for (int k = 0; k < 4; ++k) {
        const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(w0 + k * cols + vec_cols));
        const __m128i part = _mm_madd_epi16(_mm_cvtepi8_epi16(b), qv);
        acc[k] = _mm256_add_epi32(acc[k], _mm256_set_m128i(_mm_setzero_si128(), part));  // upper half zero
      }
      done += 8;
    }
    for (int k = 0; k < 4; ++k) {
      int32_t s = hsum(acc[k]);
      for (int64_t c = done; c < cols; ++c) s += int32_t(w0[k * cols + c]) * int32_t(q[c]);
      y[r + k] = s;
    }
  }
  for (; r < rows; ++r) matvec_q16_portable(w + r * cols, 1, cols, q, y + r);
}

}  // namespace tessera::ops::int8
