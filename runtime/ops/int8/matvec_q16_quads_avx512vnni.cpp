// VNNI int8 × int16 matvec on the column-quad layout (matvec_q16_quads.h; in the
// AVX-512 VNNI kernel table). One 64-byte load holds columns
// 4g..4g+3 of 16 consecutive rows, so each int32 lane accumulates one row: per load, vpdpbusd with the
// broadcast low bytes of q (unsigned as they are) and vpdpbusd with |hi| against W negated where hi < 0.
// y = 256·Σ hi·W + Σ lo·W in wrapping int32 equals the exact sum, which fits (matvec_q16.h).
#include <immintrin.h>

#include "ops/int8/matvec_q16_quads.h"

namespace tessera::ops::int8 {

void matvec_q16_quads_avx512vnni(const int8_t* wq, int64_t rows, int64_t cols, const int16_t* q, int32_t* y) {
  const int64_t groups = cols / 4;
  if (groups > 128) {  // beyond matvec_q16.h's contract (cols < 512): no fixed-size split buffers
    matvec_q16_quads_portable(wq, rows, cols, q, y);
    return;
  }
  uint32_t lo4[128], hi4[128];
  __mmask64 negative[128];
  for (int64_t g = 0; g < groups; ++g) {
    uint32_t lo = 0, hi = 0, sign = 0;
    for (int t = 0; t < 4; ++t) {
      const int32_t v = q[4 * g + t], h = v >> 8;  // arithmetic shift: floor; v = 256·h + (v & 255)
      lo |= uint32_t(v & 255) << (8 * t);
      hi |= uint32_t(h < 0 ? -h : h) << (8 * t);
      sign |= uint32_t(h < 0) << t;
    }
    lo4[g] = lo;
    hi4[g] = hi;
    negative[g] = __mmask64(uint64_t(sign) * 0x1111111111111111ull);  // byte t of every dword
  }
  const __m512i zero = _mm512_setzero_si512();
  int64_t n = 0;
  // The groups are `groups` streams 4·rows bytes apart, too many for the hardware prefetcher to keep
  // ahead of: prefetch each one a few blocks on (a hint; past the end it is harmless).
  constexpr int64_t kAhead = 1024;
  // 64 rows at a time: each group's 256 bytes are read in order, the query broadcasts are shared by four
  // vectors, and 8 independent vpdpbusd chains (16 rows at a time had 2, latency-bound) hide the latency.
  for (; n + 64 <= rows; n += 64) {
    __m512i acc_lo[4], acc_hi[4];
    for (int j = 0; j < 4; ++j) acc_lo[j] = acc_hi[j] = zero;
    for (int64_t g = 0; g < groups; ++g) {
      const int8_t* block = wq + (g * rows + n) * 4;
      const __m512i lo = _mm512_set1_epi32(int32_t(lo4[g])), hi = _mm512_set1_epi32(int32_t(hi4[g]));
      for (int j = 0; j < 4; ++j) {
        _mm_prefetch(reinterpret_cast<const char*>(block + kAhead + 64 * j), _MM_HINT_T0);
        const __m512i w = _mm512_loadu_si512(block + 64 * j);
        acc_lo[j] = _mm512_dpbusd_epi32(acc_lo[j], lo, w);
        acc_hi[j] = _mm512_dpbusd_epi32(acc_hi[j], hi, _mm512_mask_sub_epi8(w, negative[g], zero, w));
      }
    }
    for (int j = 0; j < 4; ++j)
      _mm512_storeu_si512(y + n + 16 * j, _mm512_add_epi32(_mm512_slli_epi32(acc_hi[j], 8), acc_lo[j]));
  }
  for (; n + 16 <= rows; n += 16) {
    __m512i acc_lo = zero, acc_hi = zero;
    for (int64_t g = 0; g < groups; ++g) {
      const __m512i w = _mm512_loadu_si512(wq + (g * rows + n) * 4);
      acc_lo = _mm512_dpbusd_epi32(acc_lo, _mm512_set1_epi32(int32_t(lo4[g])), w);
      acc_hi = _mm512_dpbusd_epi32(acc_hi, _mm512_set1_epi32(int32_t(hi4[g])),
                                   _mm512_mask_sub_epi8(w, negative[g], zero, w));
    }
    _mm512_storeu_si512(y + n, _mm512_add_epi32(_mm512_slli_epi32(acc_hi, 8), acc_lo));
  }
  for (; n < rows; ++n) {  // row tail (< 16)
    int32_t acc = 0;
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t t = 0; t < 4; ++t) acc += int32_t(wq[(g * rows + n) * 4 + t]) * int32_t(q[4 * g + t]);
    y[n] = acc;
  }
}

}  // namespace tessera::ops::int8
