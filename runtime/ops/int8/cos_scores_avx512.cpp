// AVX-512F contextual scores (in the AVX-512 VNNI kernel table), for head widths
// d % 8 == 0 (others: the portable loop). 16 keys at a time: each key's d int16 go through 128-bit
// vpmaddwd against q (pair sums of two Q15 products stay below 2^31) and land in one 128-bit lane of one
// of four vectors (key 4L + m in lane L of vector m); two unpack-and-add rounds leave key 4L + m's dot
// product in int32 lane 4L + m. Wrapping int32 sums equal the exact ones (they fit: cos_scores.h).
// Then fixed_point.h's multiply_by_quantized_multiplier with one multiplier for all 16 lanes
// (mbqm_avx512.h, shared with requantize_avx512.cpp). Tested bit-exact against the portable kernel.
#include <immintrin.h>

#include "ops/int8/cos_scores.h"
#include "ops/int8/mbqm_avx512.h"

namespace tessera::ops::int8 {

namespace {

// One multiplier for all 16 lanes (M ∈ [0, 2^31), shift ∈ [-31, 31]: cos_scores.h).
inline __m512i requantize_uniform(__m512i x, QuantizedMultiplier m) {
  return avx512::mbqm16(x, _mm512_set1_epi32(m.multiplier), _mm512_set1_epi32(m.shift));
}

}  // namespace

void cos_scores_avx512(const int16_t* q, const int16_t* k, int64_t n, int64_t stride, int64_t d,
                       QuantizedMultiplier mult, int32_t* scores) {
  if (d % 8 != 0 || d > 128 || mult.shift > 31 || mult.shift < -31) {  // quantize_multiplier stays in ±31
    cos_scores_portable(q, k, n, stride, d, mult, scores);
    return;
  }
  const int64_t chunks = d / 8;
  __m128i qc[16];
  for (int64_t c = 0; c < chunks; ++c) qc[c] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 8 * c));
  // Keys j .. j + count - 1 (count ≤ 16; the missing ones are zeros, left unstored).
  auto block = [&](int64_t j, int64_t count) {
    __m512i v[4];
    for (int m = 0; m < 4; ++m) {
      __m128i lane[4];
      for (int L = 0; L < 4; ++L) {  // key 4L + m
        lane[L] = _mm_setzero_si128();
        if (4 * L + m >= count) continue;
        const int16_t* kj = k + (j + 4 * L + m) * stride;
        for (int64_t c = 0; c < chunks; ++c)
          lane[L] = _mm_add_epi32(lane[L],
                                  _mm_madd_epi16(qc[c], _mm_loadu_si128(reinterpret_cast<const __m128i*>(kj + 8 * c))));
      }
      __m512i x = _mm512_castsi128_si512(lane[0]);
      x = _mm512_inserti32x4(x, lane[1], 1);
      x = _mm512_inserti32x4(x, lane[2], 2);
      v[m] = _mm512_inserti32x4(x, lane[3], 3);
    }
    const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
    const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
    const __m512i dots = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
    _mm512_mask_storeu_epi32(scores + j, __mmask16((1u << count) - 1), requantize_uniform(dots, mult));
  };
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) block(j, 16);
  if (j < n) block(j, n - j);  // the last keys with the same lanes (no scalar tail)
}

}  // namespace tessera::ops::int8
