// AVX-512 VNNI int8 matvec (in the AVX-512 VNNI kernel table, used only when the CPU reports every
// feature its files are compiled with). vpdpbusd multiplies unsigned × signed bytes into int32 without any
// 16-bit intermediate, so |x| · (sign(x)·w) summed in int32 is exact: bit-identical to the portable kernel.
#include <immintrin.h>

#include "ops/int8/matvec_int8.h"

namespace tessera::ops::int8 {

namespace {

// Narrow rows (cols = 8, 16 or 32: the persistent memory's q·M_k with head widths d ≤ 32) would all fall
// into the scalar column tail below. Rows are contiguous, so one 64-byte vector holds 64/cols whole rows:
// x is broadcast to match, vpdpbusd leaves per-row partial sums in 4-byte groups, and two in-lane shuffles
// add each 128-bit lane's 4 int32 (cols 16/32) or pairs (cols 8); a compress keeps one sum per row (cols
// 32: two lane sums per row, added after). Exact int32 sums: same bits as the portable kernel. Returns the
// rows done (a multiple of 256/cols); the caller finishes the rest.
int64_t narrow_rows(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  if (cols != 8 && cols != 16 && cols != 32) return 0;
  const __m512i zero = _mm512_setzero_si512();
  __m512i xv;
  if (cols == 8) {
    int64_t x8 = 0;
    for (int i = 0; i < 8; ++i) x8 |= int64_t(uint8_t(x[i])) << (8 * i);
    xv = _mm512_set1_epi64(x8);
  } else if (cols == 16) {
    xv = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
  } else {
    xv = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
  }
  const __m512i ax = _mm512_abs_epi8(xv);
  const __mmask64 negative = _mm512_movepi8_mask(xv);
  const int64_t per_block = 256 / cols;  // 4 vectors of 64 bytes
  int64_t r = 0;
  for (; r + per_block <= rows; r += per_block) {
    for (int k = 0; k < 4; ++k) {
      const __m512i wv = _mm512_loadu_si512(w + (r * cols) + 64 * k);
      __m512i a = _mm512_dpbusd_epi32(zero, ax, _mm512_mask_sub_epi8(wv, negative, zero, wv));
      a = _mm512_add_epi32(a, _mm512_shuffle_epi32(a, _MM_PERM_CDAB));  // lanes (0+1, 0+1, 2+3, 2+3)
      if (cols == 8) {  // two rows per 128-bit lane: sums in lanes 0 and 2
        const __m256i sums = _mm512_castsi512_si256(_mm512_maskz_compress_epi32(0x5555, a));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + r + 8 * k), sums);
        continue;
      }
      a = _mm512_add_epi32(a, _mm512_shuffle_epi32(a, _MM_PERM_BADC));  // lane 0 of each 128 bits: its sum
      const __m128i sums = _mm512_castsi512_si128(_mm512_maskz_compress_epi32(0x1111, a));
      if (cols == 16) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + r + 4 * k), sums);
      } else {  // cols 32: (row0 lo, row0 hi, row1 lo, row1 hi)
        const __m128i rows2 = _mm_hadd_epi32(sums, sums);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(y + r + 2 * k), rows2);
      }
    }
  }
  return r;
}

// Rows of whole 64-byte chunks (cols % 64 == 0: the C×C projections), 16 at a time: 16 accumulators, then
// one transpose-and-add tree (unpack epi32, unpack epi64, two 128-bit lane shuffles) leaves the 16 row
// sums in one vector — about 3 instructions per row where a full horizontal reduction per row takes ~8,
// and at C = 128 or 192 the reductions were as costly as the products. Exact int32 sums in any order:
// same bits. Returns the rows done (a multiple of 16).
int64_t rows16(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  if (cols % 64 != 0 || cols == 0) return 0;
  const __m512i zero = _mm512_setzero_si512();
  // 16 row streams at once: prefetch each row one block on (a hint; past the end it is harmless). One block
  // ahead beats two or four on large heads (int8_matvec_bench).
  const int64_t kAhead = 16 * cols;
  int64_t r = 0;
  for (; r + 16 <= rows; r += 16) {
    __m512i acc[16];
    for (int k = 0; k < 16; ++k) acc[k] = zero;
    const int8_t* w0 = w + r * cols;
    for (int64_t c = 0; c < cols; c += 64) {
      const __m512i xv = _mm512_loadu_si512(x + c);
      const __m512i ax = _mm512_abs_epi8(xv);
      const __mmask64 negative = _mm512_movepi8_mask(xv);
      for (int k = 0; k < 16; ++k) {
        _mm_prefetch(reinterpret_cast<const char*>(w0 + kAhead + k * cols + c), _MM_HINT_T0);
        const __m512i wv = _mm512_loadu_si512(w0 + k * cols + c);
        acc[k] = _mm512_dpbusd_epi32(acc[k], ax, _mm512_mask_sub_epi8(wv, negative, zero, wv));
      }
    }
    __m512i t[8], u[4], v[2];
    for (int k = 0; k < 8; ++k)  // rows 2k, 2k+1 interleaved: each 128-bit lane (a02, b02, a13, b13)
      t[k] = _mm512_add_epi32(_mm512_unpacklo_epi32(acc[2 * k], acc[2 * k + 1]),
                              _mm512_unpackhi_epi32(acc[2 * k], acc[2 * k + 1]));
    for (int k = 0; k < 4; ++k)  // each 128-bit lane: that lane's sums of rows 4k..4k+3
      u[k] = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2 * k], t[2 * k + 1]),
                              _mm512_unpackhi_epi64(t[2 * k], t[2 * k + 1]));
    for (int k = 0; k < 2; ++k)  // lanes (0+1 of u[2k], 2+3 of u[2k], 0+1 of u[2k+1], 2+3 of u[2k+1])
      v[k] = _mm512_add_epi32(_mm512_shuffle_i32x4(u[2 * k], u[2 * k + 1], 0x88),
                              _mm512_shuffle_i32x4(u[2 * k], u[2 * k + 1], 0xDD));
    _mm512_storeu_si512(y + r, _mm512_add_epi32(_mm512_shuffle_i32x4(v[0], v[1], 0x88),
                                                _mm512_shuffle_i32x4(v[0], v[1], 0xDD)));
  }
  return r;
}

}  // namespace

void matvec_i8_avx512vnni(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  const int64_t vec_cols = cols & ~int64_t(63);
  const __m512i zero = _mm512_setzero_si512();
  int64_t r = narrow_rows(w, rows, cols, x, y);
  if (r == 0) r = rows16(w, rows, cols, x, y);
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
    int32_t s[4] = {_mm512_reduce_add_epi32(acc0), _mm512_reduce_add_epi32(acc1), _mm512_reduce_add_epi32(acc2),
                    _mm512_reduce_add_epi32(acc3)};
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
