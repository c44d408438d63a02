// The contextual attention's scores (int8_forward.cpp): for n cached unit keys k_j (Q15 int16, row j at
// k + j·stride, d entries) and the unit query q,
//   scores[j] = multiply_by_quantized_multiplier(Σ_i q[i]·k_j[i], mult)   (Q30 cosine → Q16 score).
// q and every k_j have norm ≤ 2^15 (l2norm_fixed_q15), so every partial dot product is at most 2^30 in
// magnitude (Cauchy–Schwarz): int32 is exact in any order. Every variant gives the same bits.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8 {

using CosScoresFn = void (*)(const int16_t* q, const int16_t* k, int64_t n, int64_t stride, int64_t d,
                             QuantizedMultiplier mult, int32_t* scores);

void cos_scores_portable(const int16_t* q, const int16_t* k, int64_t n, int64_t stride, int64_t d,
                         QuantizedMultiplier mult, int32_t* scores);
// x86-64 only; in the AVX-512 VNNI kernel table (int8_kernels.h).
void cos_scores_avx512(const int16_t* q, const int16_t* k, int64_t n, int64_t stride, int64_t d,
                       QuantizedMultiplier mult, int32_t* scores);

}  // namespace tessera::ops::int8
