// AVX-512F lanes of softmax_fixed.cpp's exp_neg_q30, shared by the AVX-512 table's kernels
// (softmax_fixed_avx512.cpp, pmem_weights_avx512.cpp); include only from files compiled for that table.
// - max - s_i as uint32 is exact (max ≥ s_i), so every product below is the scalar's uint64 product.
// - One gather per lane from a table of (a_i, a_i - a_{i+1}) pairs instead of two table loads.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ops/int8/exp_table.h"
#include "ops/int8/softmax_fixed.h"

namespace tessera::ops::int8::avx512 {

struct PairTable {
  int64_t v[256];  // low half a_i = 2^30·2^(-i/256), high half a_i - a_{i+1} (≤ 2^22)
};
constexpr PairTable make_pairs() {
  PairTable t{};
  for (int i = 0; i < 256; ++i) t.v[i] = int64_t(kExp2NegQ30[i]) | (int64_t(kExp2NegQ30[i] - kExp2NegQ30[i + 1]) << 32);
  return t;
}
constexpr PairTable kPairs = make_pairs();

// exp_neg_q30(s_i - max, frac_bits) for 8 lanes; ax = max - s_i zero-extended to 64 bits.
inline __m512i exp_lanes(__m512i ax, __m128i fb, __m128i fb6) {
  const __m512i zero = _mm512_setzero_si512();
  const __mmask8 at_max = _mm512_cmpeq_epi64_mask(ax, zero);                                   // x = 0: 2^30
  const __mmask8 tiny = _mm512_cmpneq_epi64_mask(_mm512_srl_epi64(ax, fb6), zero);             // x < -64: 0
  const __m512i y = _mm512_srl_epi64(_mm512_mul_epu32(ax, _mm512_set1_epi64(kLog2EQ30)), fb);  // Q30
  const __m512i whole = _mm512_srli_epi64(y, 30);
  const __mmask8 beyond = _mm512_cmpge_epu64_mask(whole, _mm512_set1_epi64(31));  // 2^-31 and less: 0
  const __m512i index = _mm512_and_si512(_mm512_srli_epi64(y, 22), _mm512_set1_epi64(255));
  const __m512i rest = _mm512_and_si512(y, _mm512_set1_epi64((int64_t(1) << 22) - 1));
  const __m512i pair = _mm512_i64gather_epi64(index, kPairs.v, 8);
  const __m512i a = _mm512_and_si512(pair, _mm512_set1_epi64(0xFFFFFFFF));
  const __m512i diff = _mm512_srli_epi64(pair, 32);
  const __m512i step =
      _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epu32(diff, rest), _mm512_set1_epi64(int64_t(1) << 21)), 22);
  const __m512i interpolated = _mm512_sub_epi64(a, step);
  const __m512i half = _mm512_srli_epi64(_mm512_sllv_epi64(_mm512_set1_epi64(1), whole), 1);
  __m512i e = _mm512_srlv_epi64(_mm512_add_epi64(interpolated, half), whole);
  e = _mm512_maskz_mov_epi64(__mmask8(~(tiny | beyond)), e);
  return _mm512_mask_mov_epi64(e, at_max, _mm512_set1_epi64(int64_t(1) << 30));
}

// p[i] = exp_neg_q30(s[i] - max, frac_bits) for every i < n, and Σ p[i] (exact: order does not matter).
// Two vectors of 8 per step so the table gathers overlap; step() runs once per 8 values (a prefetch hook,
// see pmem_weights_avx512.cpp). The scalar tail uses exp_neg_q30 itself.
template <class Step>
inline uint64_t exp_sum_q30(const int32_t* s, int64_t n, int32_t max, int frac_bits, int32_t* p, Step step) {
  const __m128i fb = _mm_cvtsi32_si128(frac_bits), fb6 = _mm_cvtsi32_si128(frac_bits + 6);
  const __m256i vmax8 = _mm256_set1_epi32(max);
  auto exp8 = [&](int64_t i) {
    const __m256i sv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i));
    const __m512i e = exp_lanes(_mm512_cvtepu32_epi64(_mm256_sub_epi32(vmax8, sv)), fb, fb6);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + i), _mm512_cvtepi64_epi32(e));
    step();
    return e;
  };
  __m512i sum_a = _mm512_setzero_si512(), sum_b = _mm512_setzero_si512();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i ea = exp8(i), eb = exp8(i + 8);
    sum_a = _mm512_add_epi64(sum_a, ea);
    sum_b = _mm512_add_epi64(sum_b, eb);
  }
  for (; i + 8 <= n; i += 8) sum_a = _mm512_add_epi64(sum_a, exp8(i));
  alignas(64) uint64_t lanes[8];  // lane reduction by hand: GCC 12 warns (-Wuninitialized) in _mm512_reduce_*
  _mm512_store_si512(lanes, _mm512_add_epi64(sum_a, sum_b));
  uint64_t sum = 0;
  for (int l = 0; l < 8; ++l) sum += lanes[l];
  for (; i < n; ++i) {
    p[i] = exp_neg_q30(int64_t(s[i]) - max, frac_bits);
    sum += uint64_t(p[i]);
  }
  return sum;
}

}  // namespace tessera::ops::int8::avx512
