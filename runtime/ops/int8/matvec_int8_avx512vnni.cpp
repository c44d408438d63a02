// AVX-512 VNNI int8 matvec (compiled with -mavx512f -mavx512bw -mavx512vnni; used only when the CPU
// reports all three). vpdpbusd multiplies unsigned × signed bytes into int32 without any 16-bit
// intermediate, so |x| · (sign(x)·w) summed in int32 is exact: bit-identical to the portable kernel.
#include <immintrin.h>

#include "ops/int8/matvec_int8.h"

namespace tessera::ops::int8 {

void matvec_i8_avx512vnni(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  const int64_t vec_cols = cols & ~int64_t(63);
  const __m512i zero = _mm512_setzero_si512();
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    __m512i acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
    const int8_t* w0 = w + r * cols;
    for (int64_t c = 0; c < vec_cols; c += 64) {
      const __m512i xv = _mm512_loadu_si512(x + c);
      const __m512i ax = _mm512_abs_epi8(xv);
      const __mmask64 negative = _mm512_movepi8_mask(xv);
      auto signed_w = [&](const int8_t* wr) {
        const __m512i wv = _mm512_loadu_si512(wr + c);
        return _mm512_mask_sub_epi8(wv, negative, zero, wv);
      };
      acc0 = _mm512_dpbusd_epi32(acc0, ax, signed_w(w0));
      acc1 = _mm512_dpbusd_epi32(acc1, ax, signed_w(w0 + cols));
      acc2 = _mm512_dpbusd_epi32(acc2, ax, signed_w(w0 + 2 * cols));
      acc3 = _mm512_dpbusd_epi32(acc3, ax, signed_w(w0 + 3 * cols));
    }
    int32_t s[4] = {_mm512_reduce_add_epi32(acc0), _mm512_reduce_add_epi32(acc1),
                    _mm512_reduce_add_epi32(acc2), _mm512_reduce_add_epi32(acc3)};
    for (int k = 0; k < 4; ++k) {
      const int8_t* wr = w0 + k * cols;
      for (int64_t c = vec_cols; c < cols; ++c) s[k] += int32_t(wr[c]) * int32_t(x[c]);
      y[r + k] = s[k];
    }
  }
  for (; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    __m512i acc = zero;
    for (int64_t c = 0; c < vec_cols; c += 64) {
      const __m512i xv = _mm512_loadu_si512(x + c);
      const __m512i wv = _mm512_loadu_si512(wr + c);
      const __mmask64 negative = _mm512_movepi8_mask(xv);
      acc = _mm512_dpbusd_epi32(acc, _mm512_abs_epi8(xv), _mm512_mask_sub_epi8(wv, negative, zero, wv));
    }
    int32_t s = _mm512_reduce_add_epi32(acc);
    for (int64_t c = vec_cols; c < cols; ++c) s += int32_t(wr[c]) * int32_t(x[c]);
    y[r] = s;
  }
}

}  // namespace tessera::ops::int8
