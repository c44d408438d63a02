// VNNI value sum on the slot-quad layout (axpy_quads.h; in the AVX-512 VNNI
// kernel table). Each weight a < 2^24 splits exactly into three
// unsigned bytes a = b0 + 256·b1 + 65536·b2; vpdpbusd multiplies one plane's four bytes (slots 4g..4g+3,
// broadcast) by the quad's signed bytes for 16 columns at once and adds the four products into the
// column's int32 lane: three vpdpbusd per four slots instead of four vpmulld per slot and 8 columns.
// r += acc0 + 256·acc1 + 65536·acc2 in wrapping int32 arithmetic equals the exact sum because the exact
// result fits in int32 (axpy_int8.h's contract): same bits as axpy_i8_portable.
#include <immintrin.h>

#include "ops/int8/axpy_quads.h"

namespace tessera::ops::int8 {

namespace {

constexpr int64_t kChunkQuads = 64;  // byte planes of 256 weights at a time (1 KiB on the stack)

// planes[4g + k] = byte k of a[4g..4g+3] as one dword (k = 0..3; byte 3 is zero for a < 2^24).
void split_planes(const int32_t* a, int64_t quads, int32_t* planes) {
  const __m512i to_planes = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
  for (int64_t g = 0; g < quads; g += 4) {
    const int64_t left = quads - g < 4 ? quads - g : 4;
    const __mmask16 m = __mmask16((1u << (4 * left)) - 1);
    const __m512i x = _mm512_maskz_loadu_epi32(m, a + 4 * g);
    _mm512_mask_storeu_epi32(planes + 4 * g, m, _mm512_shuffle_epi8(x, to_planes));
  }
}

}  // namespace

void axpy_quads_avx512vnni(const int32_t* a, const int8_t* vq, int64_t rows, int64_t cols, int32_t* r) {
  alignas(64) int32_t planes[4 * kChunkQuads];
  const int64_t quads = rows / 4, cols64 = cols & ~int64_t(63), cols16 = cols & ~int64_t(15),
                cols8 = cols & ~int64_t(7);
  for (int64_t g0 = 0; g0 < quads; g0 += kChunkQuads) {
    const int64_t n = quads - g0 < kChunkQuads ? quads - g0 : kChunkQuads;
    split_planes(a + 4 * g0, n, planes);
    const int8_t* base = vq + g0 * cols * 4;
    // 64 columns at a time (d = 64, 128, ...): a quad's 256 bytes are read in order, each plane broadcast
    // is shared by four column vectors, and 12 independent vpdpbusd chains hide the latency. Walking 16
    // columns at a time instead strides the quads by 4·cols bytes and re-broadcasts the planes per vector.
    for (int64_t c0 = 0; c0 < cols64; c0 += 64) {
      __m512i acc[3][4];
      for (auto& plane : acc)
        for (auto& a4 : plane) a4 = _mm512_setzero_si512();
      const int8_t* quad = base + c0 * 4;
      for (int64_t g = 0; g < n; ++g, quad += cols * 4) {
        const __m512i b0 = _mm512_set1_epi32(planes[4 * g]), b1 = _mm512_set1_epi32(planes[4 * g + 1]),
                      b2 = _mm512_set1_epi32(planes[4 * g + 2]);
        for (int j = 0; j < 4; ++j) {
          const __m512i m = _mm512_loadu_si512(quad + 64 * j);
          acc[0][j] = _mm512_dpbusd_epi32(acc[0][j], b0, m);
          acc[1][j] = _mm512_dpbusd_epi32(acc[1][j], b1, m);
          acc[2][j] = _mm512_dpbusd_epi32(acc[2][j], b2, m);
        }
      }
      for (int j = 0; j < 4; ++j) {
        const __m512i sum = _mm512_add_epi32(acc[0][j], _mm512_add_epi32(_mm512_slli_epi32(acc[1][j], 8),
                                                                         _mm512_slli_epi32(acc[2][j], 16)));
        _mm512_storeu_si512(r + c0 + 16 * j, _mm512_add_epi32(_mm512_loadu_si512(r + c0 + 16 * j), sum));
      }
    }
    for (int64_t c0 = cols64; c0 < cols16; c0 += 16) {
      // Two accumulator sets (even / odd quads) so the vpdpbusd chains overlap.
      __m512i e0 = _mm512_setzero_si512(), e1 = e0, e2 = e0, o0 = e0, o1 = e0, o2 = e0;
      int64_t g = 0;
      for (; g + 2 <= n; g += 2) {
        const __m512i me = _mm512_loadu_si512(base + (g * cols + c0) * 4);
        const __m512i mo = _mm512_loadu_si512(base + ((g + 1) * cols + c0) * 4);
        e0 = _mm512_dpbusd_epi32(e0, _mm512_set1_epi32(planes[4 * g]), me);
        e1 = _mm512_dpbusd_epi32(e1, _mm512_set1_epi32(planes[4 * g + 1]), me);
        e2 = _mm512_dpbusd_epi32(e2, _mm512_set1_epi32(planes[4 * g + 2]), me);
        o0 = _mm512_dpbusd_epi32(o0, _mm512_set1_epi32(planes[4 * g + 4]), mo);
        o1 = _mm512_dpbusd_epi32(o1, _mm512_set1_epi32(planes[4 * g + 5]), mo);
        o2 = _mm512_dpbusd_epi32(o2, _mm512_set1_epi32(planes[4 * g + 6]), mo);
      }
      if (g < n) {
        const __m512i me = _mm512_loadu_si512(base + (g * cols + c0) * 4);
        e0 = _mm512_dpbusd_epi32(e0, _mm512_set1_epi32(planes[4 * g]), me);
        e1 = _mm512_dpbusd_epi32(e1, _mm512_set1_epi32(planes[4 * g + 1]), me);
        e2 = _mm512_dpbusd_epi32(e2, _mm512_set1_epi32(planes[4 * g + 2]), me);
      }
      const __m512i s0 = _mm512_add_epi32(e0, o0), s1 = _mm512_add_epi32(e1, o1), s2 = _mm512_add_epi32(e2, o2);
      const __m512i sum = _mm512_add_epi32(s0, _mm512_add_epi32(_mm512_slli_epi32(s1, 8), _mm512_slli_epi32(s2, 16)));
      _mm512_storeu_si512(r + c0, _mm512_add_epi32(_mm512_loadu_si512(r + c0), sum));
    }
    if (cols8 > cols16) {  // 8 more columns (d = 8, 24, ...): the same on 256-bit vectors
      __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0;
      for (int64_t g = 0; g < n; ++g) {
        const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + (g * cols + cols16) * 4));
        s0 = _mm256_dpbusd_epi32(s0, _mm256_set1_epi32(planes[4 * g]), m);
        s1 = _mm256_dpbusd_epi32(s1, _mm256_set1_epi32(planes[4 * g + 1]), m);
        s2 = _mm256_dpbusd_epi32(s2, _mm256_set1_epi32(planes[4 * g + 2]), m);
      }
      const __m256i sum = _mm256_add_epi32(s0, _mm256_add_epi32(_mm256_slli_epi32(s1, 8), _mm256_slli_epi32(s2, 16)));
      __m256i* out = reinterpret_cast<__m256i*>(r + cols16);
      _mm256_storeu_si256(out, _mm256_add_epi32(_mm256_loadu_si256(out), sum));
    }
    for (int64_t g = 0; g < n; ++g)  // column tail (< 8)
      for (int64_t c = cols8; c < cols; ++c)
        for (int64_t t = 0; t < 4; ++t) r[c] += a[4 * (g0 + g) + t] * int32_t(base[(g * cols + c) * 4 + t]);
  }
}

}  // namespace tessera::ops::int8
