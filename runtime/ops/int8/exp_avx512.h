// AVX-512F lanes of softmax_fixed.cpp's exp_neg_q30, shared by the kernels compiled with -mavx512f
// (softmax_fixed_avx512.cpp, pmem_weights_avx512.cpp); include only from such files.
// - max - s_i as uint32 is exact (max ≥ s_i), so every product below is the scalar's uint64 product.
// - One gather per lane from a table of (a_i, a_i - a_{i+1}) pairs instead of two table loads.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ops/int8/exp_table.h"

namespace tessera::ops::int8::avx512 {

struct PairTable {
  int64_t v[256];  // low half a_i = 2^30·2^(-i/256), high half a_i - a_{i+1} (≤ 2^22)
};
constexpr PairTable make_pairs() {
  PairTable t{};
  for (int i = 0; i < 256; ++i)
    t.v[i] = int64_t(kExp2NegQ30[i]) | (int64_t(kExp2NegQ30[i] - kExp2NegQ30[i + 1]) << 32);
  return t;
}
constexpr PairTable kPairs = make_pairs();

// exp_neg_q30(s_i - max, frac_bits) for 8 lanes; ax = max - s_i zero-extended to 64 bits.
inline __m512i exp_lanes(__m512i ax, __m128i fb, __m128i fb6) {
  const __m512i zero = _mm512_setzero_si512();
  const __mmask8 at_max = _mm512_cmpeq_epi64_mask(ax, zero);                        // x = 0: 2^30
  const __mmask8 tiny = _mm512_cmpneq_epi64_mask(_mm512_srl_epi64(ax, fb6), zero);  // x < -64: 0
  const __m512i y = _mm512_srl_epi64(_mm512_mul_epu32(ax, _mm512_set1_epi64(kLog2EQ30)), fb);  // Q30
  const __m512i whole = _mm512_srli_epi64(y, 30);
  const __mmask8 beyond = _mm512_cmpge_epu64_mask(whole, _mm512_set1_epi64(31));  // 2^-31 and less: 0
  const __m512i index = _mm512_and_si512(_mm512_srli_epi64(y, 22), _mm512_set1_epi64(255));
  const __m512i rest = _mm512_and_si512(y, _mm512_set1_epi64((int64_t(1) << 22) - 1));
  const __m512i pair = _mm512_i64gather_epi64(index, kPairs.v, 8);
  const __m512i a = _mm512_and_si512(pair, _mm512_set1_epi64(0xFFFFFFFF));
  const __m512i diff = _mm512_srli_epi64(pair, 32);
  const __m512i step = _mm512_srli_epi64(
      _mm512_add_epi64(_mm512_mul_epu32(diff, rest), _mm512_set1_epi64(int64_t(1) << 21)), 22);
  const __m512i interpolated = _mm512_sub_epi64(a, step);
  const __m512i half = _mm512_srli_epi64(_mm512_sllv_epi64(_mm512_set1_epi64(1), whole), 1);
  __m512i e = _mm512_srlv_epi64(_mm512_add_epi64(interpolated, half), whole);
  e = _mm512_maskz_mov_epi64(__mmask8(~(tiny | beyond)), e);
  return _mm512_mask_mov_epi64(e, at_max, _mm512_set1_epi64(int64_t(1) << 30));
}

}  // namespace tessera::ops::int8::avx512
