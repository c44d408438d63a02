// AVX2 int8 matvec (in the AVX2 kernel table).
// maddubs needs one unsigned operand: multiply |x| (unsigned; x = -128 gives 0x80 = 128) by
// sign(x)·w (signed). With w ∈ [-127, 127] and x ∈ [-128, 127] each 16-bit pair sum is ≤ 2·128·127 =
// 32512 < 2^15, so maddubs never saturates and the result equals the portable kernel exactly.
#include <immintrin.h>

#include "ops/int8/matvec_int8.h"

namespace tessera::ops::int8 {

static inline int32_t horizontal_sum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

void matvec_i8_avx2(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  const __m256i ones = _mm256_set1_epi16(1);
  const int64_t vec_cols = cols & ~int64_t(31);
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {  // 4 rows share each load of x
    __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    const int8_t* w0 = w + r * cols;
    for (int64_t c = 0; c < vec_cols; c += 32) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c));
      const __m256i ax = _mm256_sign_epi8(xv, xv);
      auto dot = [&](const int8_t* wr) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr + c));
        return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv)), ones);
      };
      acc0 = _mm256_add_epi32(acc0, dot(w0));
      acc1 = _mm256_add_epi32(acc1, dot(w0 + cols));
      acc2 = _mm256_add_epi32(acc2, dot(w0 + 2 * cols));
      acc3 = _mm256_add_epi32(acc3, dot(w0 + 3 * cols));
    }
    int32_t s[4] = {horizontal_sum(acc0), horizontal_sum(acc1), horizontal_sum(acc2), horizontal_sum(acc3)};
    for (int k = 0; k < 4; ++k) {
      const int8_t* wr = w0 + k * cols;
      for (int64_t c = vec_cols; c < cols; ++c) s[k] += int32_t(wr[c]) * int32_t(x[c]);
      y[r + k] = s[k];
    }
  }
  for (; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    __m256i acc = _mm256_setzero_si256();
    for (int64_t c = 0; c < vec_cols; c += 32) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c));
      const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr + c));
      acc = _mm256_add_epi32(acc,
                             _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(xv, xv), _mm256_sign_epi8(wv, xv)),
                                               ones));
    }
    int32_t s = horizontal_sum(acc);
    for (int64_t c = vec_cols; c < cols; ++c) s += int32_t(wr[c]) * int32_t(x[c]);
    y[r] = s;
  }
}

}  // namespace tessera::ops::int8
