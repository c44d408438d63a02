// entmax_fixed.cpp's support test over unsorted candidates (fixed_math.h): Σ_{D_j ≤ top}(top - D_j)^r < 1
// and the largest D below top, run once per row at top = max D and again for each peeled value. On x86-64
// an AVX-512F variant (8 lanes) is chosen at run time; the portable loop is the reference and the only
// code on other targets. Same verdict and `below` either way.
#include "ops/fixed/fixed_math.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TESSERA_ENTMAX_SCAN_AVX512 1
#endif

namespace tessera::ops::fixed {

// The support test at top = a candidate's D over unsorted d[0..m) (terms of D_j ≤ top only: they are ≥ 0,
// so their order does not matter, and ties with top add 0), which also returns the largest D below top (the next value
// to test when this one fails). The sum is clamped at the limit instead of leaving early, so the scan completes without
// overflow.
bool entmax_mass_below_one_portable(int r, const uint32_t* d, size_t m, uint32_t top, uint32_t* below) {
  const uint64_t limit = uint64_t{1} << (20 * r);
  uint64_t sum = 0;
  uint32_t next = 0;
  for (size_t j = 0; j < m; ++j) {
    if (d[j] > top) continue;
    if (d[j] < top) next = d[j] > next ? d[j] : next;
    uint64_t y = top - d[j];
    sum += r == 1 ? y : r == 2 ? y * y : y * y * y;
    sum = sum < limit ? sum : limit;
  }
  *below = next;
  return sum < limit;
}

#if defined(TESSERA_ENTMAX_SCAN_AVX512)
namespace {

// The portable scan on 8 lanes (AVX-512F, chosen at run time): each lane's sum clamped at the limit
// (terms ≥ 0, so a lane reaching it means the whole sum does; otherwise the lanes add up to the exact
// sum), the tail and the verdict as the scalar loop. y < 2^20: y² and y²·y from 32 × 32-bit vpmuludq.
#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 false positive inside avx512fintrin.h
#endif
__attribute__((target("avx512f"))) bool mass_below_one_unsorted_avx512(int r, const uint32_t* d, size_t m, uint32_t top,
                                                                       uint32_t* below) {
  const uint64_t limit = uint64_t{1} << (20 * r);
  const __m512i topv = _mm512_set1_epi64(top), limitv = _mm512_set1_epi64(static_cast<int64_t>(limit));
  __m512i sum = _mm512_setzero_si512(), next = _mm512_setzero_si512();
  size_t j = 0;
  for (; j + 8 <= m; j += 8) {
    const __m512i dv = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + j)));
    const __mmask8 le = _mm512_cmple_epu64_mask(dv, topv), lt = _mm512_cmplt_epu64_mask(dv, topv);
    next = _mm512_mask_max_epu64(next, lt, next, dv);
    const __m512i y = _mm512_maskz_sub_epi64(le, topv, dv);
    __m512i term = y;
    if (r >= 2) term = _mm512_mul_epu32(y, y);  // < 2^40
    if (r == 3)
      term = _mm512_add_epi64(_mm512_mul_epu32(term, y),
                              _mm512_slli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(term, 32), y), 32));
    sum = _mm512_min_epu64(_mm512_add_epi64(sum, term), limitv);
  }
  alignas(64) uint64_t lanes_s[8], lanes_n[8];
  _mm512_store_si512(lanes_s, sum);
  _mm512_store_si512(lanes_n, next);
  uint64_t s = 0;
  uint32_t nx = 0;
  for (int l = 0; l < 8; ++l) {
    s += lanes_s[l];  // each ≤ 2^60
    nx = static_cast<uint32_t>(lanes_n[l]) > nx ? static_cast<uint32_t>(lanes_n[l]) : nx;
  }
  s = s < limit ? s : limit;
  for (; j < m; ++j) {
    if (d[j] > top) continue;
    if (d[j] < top) nx = d[j] > nx ? d[j] : nx;
    uint64_t y = top - d[j];
    s += r == 1 ? y : r == 2 ? y * y : y * y * y;
    s = s < limit ? s : limit;
  }
  *below = nx;
  return s < limit;
}
#pragma GCC diagnostic pop

}  // namespace
#endif

bool entmax_mass_below_one(int r, const uint32_t* d, size_t m, uint32_t top, uint32_t* below) {
#if defined(TESSERA_ENTMAX_SCAN_AVX512)
  if (__builtin_cpu_supports("avx512f")) return mass_below_one_unsorted_avx512(r, d, m, top, below);
#endif
  return entmax_mass_below_one_portable(r, d, m, top, below);
}

}  // namespace tessera::ops::fixed
