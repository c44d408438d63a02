// AVX-512F fixed-point softmax (in the AVX-512 VNNI kernel table): softmax_fixed.cpp's
// exp_neg_q30 on 8 int64 lanes, step by step, then the same reciprocal normalisation. It is the
// persistent memory's per-slot softmax (N slots × heads × banks per token) and the contextual softmax.
// The exp lanes live in exp_avx512.h (shared with pmem_weights_avx512.cpp).
// - Σ exp and the normalisation are exact integer sums/products: order does not matter.
// Tested bit-exact against the portable kernel (tests/int8/softmax_fixed_test.cpp).
#include <immintrin.h>

#include "ops/int8/exp_avx512.h"
#include "ops/int8/softmax_fixed.h"

namespace tessera::ops::int8 {

void softmax_fixed_q23_avx512(const int32_t* s, int64_t n, int frac_bits, int32_t* p) {
  int64_t i = 0;
  __m512i vmax = _mm512_set1_epi32(INT32_MIN);
  for (; i + 16 <= n; i += 16) vmax = _mm512_max_epi32(vmax, _mm512_loadu_si512(s + i));
  alignas(64) int32_t lanes[16];  // lane reductions by hand: GCC 12 warns (-Wuninitialized) in _mm512_reduce_*
  _mm512_store_si512(lanes, vmax);
  int32_t max = lanes[0];
  for (int l = 1; l < 16; ++l) max = lanes[l] > max ? lanes[l] : max;
  for (; i < n; ++i) max = s[i] > max ? s[i] : max;

  const uint64_t sum = avx512::exp_sum_q30(s, n, max, frac_bits, p, [] {});

  const uint64_t recip = (uint64_t(1) << 62) / sum;  // ≤ 2^32 (sum ≥ 2^30)
  const int out_shift = 62 - kProbabilityFracBits;
  i = 0;
  if (recip >> 32 == 0) {  // p·recip on vpmuludq (both operands < 2^32)
    const __m512i r = _mm512_set1_epi64(int64_t(recip));
    const __m512i round = _mm512_set1_epi64(int64_t(1) << (out_shift - 1));
    for (; i + 8 <= n; i += 8) {
      const __m512i pv = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
      const __m512i q = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epu32(pv, r), round), out_shift);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + i), _mm512_cvtepi64_epi32(q));
    }
  }
  for (; i < n; ++i)  // the tail, and recip = 2^32 (one slot holds all the mass)
    p[i] = int32_t((uint64_t(p[i]) * recip + (uint64_t(1) << (out_shift - 1))) >> out_shift);
}

}  // namespace tessera::ops::int8
