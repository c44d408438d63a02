// AVX-512BW int8 × int16 matvec (in the AVX-512 VNNI kernel table): 32
// weights sign-extended to int16 per vpmaddwd with the query (exact pairwise int32, matvec_q16.h),
// 4 rows per pass; rows narrower than 32 use the AVX2 kernel.
#include <immintrin.h>

#include "ops/int8/matvec_q16.h"

namespace tessera::ops::int8 {

void matvec_q16_avx512(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y) {
  if (cols < 32) {
    matvec_q16_avx2(w, rows, cols, q, y);
    return;
  }
  const int64_t vec_cols = cols & ~int64_t(31);
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    const int8_t* w0 = w + r * cols;
    for (int64_t c = 0; c < vec_cols; c += 32) {
      const __m512i qv = _mm512_loadu_si512(q + c);
      for (int k = 0; k < 4; ++k) {
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + k * cols + c));
        acc[k] = _mm512_add_epi32(acc[k], _mm512_madd_epi16(_mm512_cvtepi8_epi16(b), qv));
      }
    }
    for (int k = 0; k < 4; ++k) {
      int32_t s = _mm512_reduce_add_epi32(acc[k]);
      for (int64_t c = vec_cols; c < cols; ++c) s += int32_t(w0[k * cols + c]) * int32_t(q[c]);
      y[r + k] = s;
    }
  }
  for (; r < rows; ++r) matvec_q16_portable(w + r * cols, 1, cols, q, y + r);
}

}  // namespace tessera::ops::int8
