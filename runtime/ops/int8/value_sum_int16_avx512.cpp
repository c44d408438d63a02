// AVX-512F attention value sum (in the AVX-512 VNNI kernel table): value_sum_int16_avx2's
// scheme on 8 int64 lanes — columns in blocks of 32 (four registers) then 8, int16 → int64 sign extension,
// vpmuldq by p_j (exact: |p| ≤ 2^23, |v| ≤ 2^15), exact int64 sums. A head of d = 16 is two registers per
// key instead of four. Same bits as the portable loop.
#include <immintrin.h>

#include "ops/int8/value_sum_int16.h"

namespace tessera::ops::int8 {

void value_sum_i16_avx512(const int32_t* p, const int16_t* v, int64_t rows, int64_t stride, int64_t cols,
                          int64_t* out) {
  const int64_t cols32 = cols & ~int64_t(31);
  for (int64_t c0 = 0; c0 < cols32; c0 += 32) {
    __m512i acc[4];
    for (int k = 0; k < 4; ++k) acc[k] = _mm512_loadu_si512(out + c0 + 8 * k);
    for (int64_t j = 0; j < rows; ++j) {
      if (p[j] == 0) continue;
      const __m512i w = _mm512_set1_epi64(p[j]);
      const int16_t* row = v + j * stride + c0;
      for (int k = 0; k < 4; ++k) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 8 * k));  // 8 int16
        acc[k] = _mm512_add_epi64(acc[k], _mm512_mul_epi32(_mm512_cvtepi16_epi64(x), w));
      }
    }
    for (int k = 0; k < 4; ++k) _mm512_storeu_si512(out + c0 + 8 * k, acc[k]);
  }
  // Narrower heads (d = 8, 16, 24, or the rest of a wide row): blocks of 8 columns, one register each,
  // all of them in one pass over the keys (up to 3 blocks: d < 32 here).
  const int64_t cols8 = cols & ~int64_t(7), blocks = (cols8 - cols32) / 8;
  if (blocks > 0) {
    __m512i acc[3];
    for (int64_t k = 0; k < blocks; ++k) acc[k] = _mm512_loadu_si512(out + cols32 + 8 * k);
    for (int64_t j = 0; j < rows; ++j) {
      if (p[j] == 0) continue;
      const __m512i w = _mm512_set1_epi64(p[j]);
      const int16_t* row = v + j * stride + cols32;
      for (int64_t k = 0; k < blocks; ++k) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 8 * k));
        acc[k] = _mm512_add_epi64(acc[k], _mm512_mul_epi32(_mm512_cvtepi16_epi64(x), w));
      }
    }
    for (int64_t k = 0; k < blocks; ++k) _mm512_storeu_si512(out + cols32 + 8 * k, acc[k]);
  }
  if (cols8 == cols) return;
  for (int64_t j = 0; j < rows; ++j) {  // column tail (< 8)
    const int64_t w = p[j];
    const int16_t* row = v + j * stride;
    for (int64_t i = cols8; i < cols; ++i) out[i] += w * row[i];
  }
}

}  // namespace tessera::ops::int8
