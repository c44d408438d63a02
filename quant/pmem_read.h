// One position's read of one persistent memory by one head, in float32 (the batched forward pass,
// quant/batched_forward.h): scores of the unit query against the N slot keys, a softmax over the
// slots shifted by their maximum, and the probability-weighted sum of the slot values added to `acc`.
// Vectorised over the slots (scores) and over the head dimension (mix) with GCC/Clang vector
// extensions; every output's summation order depends only on N and d, so results are the same
// whatever thread computes them.
#pragma once

#include <cstdint>

namespace tessera::quant {

// Positions read together (each slot key and value is loaded once for them all).
inline constexpr int64_t kPmemReadBlock = 4;

// `positions` queries of d floats, q_stride apart; keys_t: the slot keys transposed, [d][N]; values:
// [N][d]; scores: kPmemReadBlock × N floats of scratch. For each position p:
// acc[p·acc_stride + i] += weight · Σ_n softmax(query_scale · q_p·k_n)_n · v_n[i]. Slots whose shifted
// score is below -30 get weight 0 (together < N·e⁻³⁰ of the sum, far below float rounding) and are
// skipped in the mix. The result for a position does not depend on `positions` or on its place.
void pmem_read(const float* q, int64_t q_stride, int64_t positions, float query_scale, const float* keys_t,
               const float* values, int64_t N, int64_t d, float weight, float* scores, float* acc, int64_t acc_stride);

}  // namespace tessera::quant
