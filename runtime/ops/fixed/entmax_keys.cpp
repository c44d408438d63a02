// entmax_fixed.cpp's two passes over every key (fixed_math.h): the candidates' D_i before the threshold and
// the output numerators after it. On x86-64 an AVX-512F variant (8 keys per vector) is chosen at run time;
// the portable loops are the reference and the only code on other targets. Same integers either way.
#include "ops/fixed/fixed_math.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TESSERA_ENTMAX_KEYS_AVX512 1
#endif

namespace tessera::ops::fixed {

namespace {
const uint32_t kOneQ20 = 1u << 20;
}  // namespace

size_t entmax_candidates_portable(int r, const int32_t* q, size_t n, const uint8_t* mask, int32_t qmax,
                                  ScoreScale scale, int32_t* p, uint32_t* d, uint32_t* d_max) {
  size_t m = 0;
  uint32_t top = 0;
  for (size_t i = 0; i < n; ++i) {
    p[i] = -1;
    if (!usable_key(mask, i)) continue;
    const uint32_t diff = static_cast<uint32_t>(static_cast<int64_t>(qmax) - q[i]);
    const uint32_t di = scaled_difference(diff, scale, 20, static_cast<uint32_t>(r), kOneQ20);
    if (di < kOneQ20) {  // bracket: D ≥ 1 is never in the support
      d[m++] = di;
      p[i] = static_cast<int32_t>(di);
      top = di > top ? di : top;
    }
  }
  *d_max = top;
  return m;
}

void entmax_numerators_portable(int r, uint64_t t, int64_t base, uint64_t k, int32_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t num = 0;
    if (p[i] >= 0) {
      if (r == 1) {
        const int64_t v = base - static_cast<int64_t>(k) * p[i];
        num = v > 0 ? static_cast<uint64_t>(v) : 0;
      } else {
        const uint64_t di = static_cast<uint64_t>(p[i]) << 11;
        if (di < t) {
          const uint64_t y = t - di, y2 = (y * y) >> 31;
          num = r == 2 ? y2 : (y2 * y) >> 31;
        }
      }
    }
    p[i] = static_cast<int32_t>(static_cast<uint32_t>(num));
  }
}

#if defined(TESSERA_ENTMAX_KEYS_AVX512)
namespace {

#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 false positive inside avx512fintrin.h
#endif
// D_i = scaled_difference(qmax - q_i, scale, 20, r, 2^20) on 8 lanes, for a rounding right shift a ∈ [1, 61]
// (the caller checks). prod = diff·M < 2^63 on vpmuludq. r = 1, 2: the scalar steps as they are. r = 3:
// ((⌊prod/3⌋ + 2^(a-1)) >> a) = ⌊(prod + 3·2^(a-1)) / (3·2^a)⌋ = ⌊w / 3⌋ with w = (prod + 3·2^(a-1)) >> a
// (nested floor divisions); w ≥ 3·2^20 means D ≥ 2^20 (not a candidate), else w < 2^32 and
// ⌊w/3⌋ = (w·0xAAAAAAAB) >> 33 exactly. Candidates (D < 2^20) are compressed into d in key order.
__attribute__((target("avx512f"))) size_t candidates_avx512(int r, const int32_t* q, size_t n, int32_t qmax,
                                                            ScoreScale scale, int a, int32_t* p, uint32_t* d,
                                                            uint32_t* d_max) {
  const __m256i qmax8 = _mm256_set1_epi32(qmax);
  const __m512i mult = _mm512_set1_epi64(static_cast<uint32_t>(scale.multiplier));
  const __m512i one_q20 = _mm512_set1_epi64(kOneQ20), three_q20 = _mm512_set1_epi64(3 * int64_t{kOneQ20});
  const __m512i half = _mm512_set1_epi64(static_cast<int64_t>(uint64_t{1} << (a - 1)));
  const __m512i half3 = _mm512_set1_epi64(static_cast<int64_t>(uint64_t{3} << (a - 1)));
  const __m512i third = _mm512_set1_epi64(0xAAAAAAABll);
  const __m128i shift = _mm_cvtsi32_si128(a);
  __m512i top = _mm512_setzero_si512();
  size_t m = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i diff = _mm256_sub_epi32(qmax8, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i)));
    const __m512i prod = _mm512_mul_epu32(_mm512_cvtepu32_epi64(diff), mult);
    __m512i v;
    __mmask8 in;
    if (r == 3) {
      const __m512i w = _mm512_srl_epi64(_mm512_add_epi64(prod, half3), shift);
      in = _mm512_cmplt_epu64_mask(w, three_q20);
      v = _mm512_srli_epi64(_mm512_mul_epu32(w, third), 33);
    } else {
      v = _mm512_srl_epi64(_mm512_add_epi64(r == 2 ? _mm512_srli_epi64(prod, 1) : prod, half), shift);
      in = _mm512_cmplt_epu64_mask(v, one_q20);
    }
    v = _mm512_maskz_mov_epi64(in, v);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + i),
                        _mm512_cvtepi64_epi32(_mm512_mask_blend_epi64(in, _mm512_set1_epi64(-1), v)));
    // m + 8 ≤ i + 8 ≤ n: the full-width store stays inside d's first n words.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + m), _mm512_cvtepi64_epi32(_mm512_maskz_compress_epi64(in, v)));
    m += static_cast<size_t>(__builtin_popcount(in));
    top = _mm512_max_epu64(top, v);
  }
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, top);
  uint32_t best = 0;
  for (int l = 0; l < 8; ++l) best = static_cast<uint32_t>(lanes[l]) > best ? static_cast<uint32_t>(lanes[l]) : best;
  uint32_t tail_max = 0;
  m += entmax_candidates_portable(r, q + i, n - i, nullptr, qmax, scale, p + i, d + m, &tail_max);
  *d_max = tail_max > best ? tail_max : best;
  return m;
}

// The numerators on 8 lanes: y ≤ 2^31 and y² >> 31 ≤ 2^31, so y², y²·y are vpmuludq products; r = 1:
// k·D < 2^52 on vpmuludq (k < 2^32), signed base - k·D clamped at 0 (base < 2^32: the caller checks).
__attribute__((target("avx512f"))) void numerators_avx512(int r, uint64_t t, int64_t base, uint64_t k, int32_t* p,
                                                          size_t n) {
  const __m512i tv = _mm512_set1_epi64(static_cast<int64_t>(t)), basev = _mm512_set1_epi64(base);
  const __m512i kv = _mm512_set1_epi64(static_cast<int64_t>(k)), zero = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i pv = _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    const __mmask8 candidate = _mm512_cmpge_epi64_mask(pv, zero);
    __m512i num;
    if (r == 1) {
      num = _mm512_max_epi64(_mm512_sub_epi64(basev, _mm512_mul_epu32(kv, pv)), zero);
    } else {
      const __m512i di = _mm512_slli_epi64(pv, 11);
      const __mmask8 inside = _mm512_cmplt_epu64_mask(di, tv);
      const __m512i y = _mm512_sub_epi64(tv, di);
      num = _mm512_srli_epi64(_mm512_mul_epu32(y, y), 31);
      if (r == 3) num = _mm512_srli_epi64(_mm512_mul_epu32(num, y), 31);
      num = _mm512_maskz_mov_epi64(inside, num);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + i),
                        _mm512_cvtepi64_epi32(_mm512_maskz_mov_epi64(candidate, num)));
  }
  entmax_numerators_portable(r, t, base, k, p + i, n - i);
}
#pragma GCC diagnostic pop

}  // namespace
#endif

size_t entmax_candidates(int r, const int32_t* q, size_t n, const uint8_t* mask, int32_t qmax, ScoreScale scale,
                         int32_t* p, uint32_t* d, uint32_t* d_max) {
#if defined(TESSERA_ENTMAX_KEYS_AVX512)
  const int a = 31 - scale.shift - 20;  // scaled_difference's rounding right shift at 20 fraction bits
  if (mask == nullptr && a >= 1 && a <= 61 && scale.multiplier >= 0 && __builtin_cpu_supports("avx512f"))
    return candidates_avx512(r, q, n, qmax, scale, a, p, d, d_max);
#endif
  return entmax_candidates_portable(r, q, n, mask, qmax, scale, p, d, d_max);
}

void entmax_numerators(int r, uint64_t t, int64_t base, uint64_t k, int32_t* p, size_t n) {
#if defined(TESSERA_ENTMAX_KEYS_AVX512)
  if ((r != 1 || (base >= 0 && base < (int64_t{1} << 32) && k < (uint64_t{1} << 32))) &&
      __builtin_cpu_supports("avx512f")) {
    numerators_avx512(r, t, base, k, p, n);
    return;
  }
#endif
  entmax_numerators_portable(r, t, base, k, p, n);
}

}  // namespace tessera::ops::fixed
