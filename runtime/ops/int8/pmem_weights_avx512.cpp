// AVX-512F persistent-memory slot weights (in the AVX-512 VNNI kernel table): the same
// three steps as pmem_weights_portable, fused into three passes, with the same lanes as the separate kernels
// (mbqm_avx512.h for both requantisations, exp_avx512.h for the exponentials):
//   1. scores = MBQM(dot, score_m), and their maximum;
//   2. e = exp(scores - max) into p, and Σe (exact integer sum: order does not matter);
//   3. p' = MBQM(round(e·2^62/Σe / 2^39), value_m).
// The passes touch only L1-resident arrays, so between vectors they prefetch the next kernel's operand (the
// bank's value rows) into L2: on a single thread that turns these compute-only passes into memory time the
// value sum would otherwise spend waiting. Tested bit-exact against the portable kernel
// (tests/int8/pmem_weights_test.cpp).
#include <immintrin.h>

#include "ops/int8/exp_avx512.h"
#include "ops/int8/mbqm_avx512.h"
#include "ops/int8/pmem_weights.h"
#include "ops/int8/prefetch_stream.h"
#include "ops/int8/requantize.h"
#include "ops/int8/softmax_fixed.h"

namespace tessera::ops::int8 {

using avx512::requantize_each16;

void pmem_weights_avx512(const int32_t* dot, const QuantizedMultiplier* score_m, const QuantizedMultiplier* value_m,
                         int64_t n, int frac_bits, int32_t* scores, int32_t* p, const void* prefetch,
                         size_t prefetch_bytes) {
  const int64_t n16 = n & ~int64_t(15), n8 = n & ~int64_t(7);
  PrefetchStream ahead(prefetch, prefetch_bytes, n16 / 16 + n8 / 8 + n16 / 16);

  // 1. Scores and their maximum.
  __m512i vmax = _mm512_set1_epi32(INT32_MIN);
  for (int64_t i = 0; i < n16; i += 16) {
    requantize_each16(_mm512_loadu_si512(dot + i), score_m + i, scores + i);
    vmax = _mm512_max_epi32(vmax, _mm512_loadu_si512(scores + i));
    ahead.step();
  }
  alignas(64) int32_t lanes[16];  // reductions by hand: GCC 12 warns (-Wuninitialized) in _mm512_reduce_*
  _mm512_store_si512(lanes, vmax);
  int32_t max = lanes[0];
  for (int l = 1; l < 16; ++l) max = lanes[l] > max ? lanes[l] : max;
  for (int64_t i = n16; i < n; ++i) {
    scores[i] = multiply_by_quantized_multiplier(dot[i], score_m[i]);
    max = scores[i] > max ? scores[i] : max;
  }

  // 2. Exponentials and their sum.
  const uint64_t sum = avx512::exp_sum_q30(scores, n, max, frac_bits, p, [&] { ahead.step(); });

  // 3. Normalisation (softmax_fixed_q23's rounding) and the value weights.
  const uint64_t recip = (uint64_t(1) << 62) / sum;  // ≤ 2^32 (sum ≥ 2^30)
  const int out_shift = 62 - kProbabilityFracBits;
  const uint64_t round = uint64_t(1) << (out_shift - 1);
  int64_t i = 0;
  if (recip >> 32 == 0) {  // p·recip on vpmuludq (both operands < 2^32)
    const __m512i r = _mm512_set1_epi64(int64_t(recip)), vround = _mm512_set1_epi64(int64_t(round));
    for (; i < n16; i += 16) {
      const __m512i lo = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
      const __m512i hi = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
      const __m256i qlo =
          _mm512_cvtepi64_epi32(_mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epu32(lo, r), vround), out_shift));
      const __m256i qhi =
          _mm512_cvtepi64_epi32(_mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epu32(hi, r), vround), out_shift));
      requantize_each16(_mm512_inserti64x4(_mm512_castsi256_si512(qlo), qhi, 1), value_m + i, p + i);
      ahead.step();
    }
  }
  for (; i < n; ++i) {  // the tail, and recip = 2^32 (one slot holds all the mass)
    const int32_t q = int32_t((uint64_t(p[i]) * recip + round) >> out_shift);
    p[i] = multiply_by_quantized_multiplier(q, value_m[i]);
  }
}

}  // namespace tessera::ops::int8
