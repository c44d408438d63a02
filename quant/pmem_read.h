// One position's read of one persistent memory by one head, in float32 (the batched forward pass,
// quant/batched_forward.h): scores of the unit query against the N slot keys, a softmax over the
// slots shifted by their maximum, and the probability-weighted sum of the slot values added to `acc`.
// Vectorised over the slots (scores) and over the head dimension (mix) with GCC/Clang vector
// extensions; every output's summation order depends only on N and d, so results are the same
// whatever thread computes them.
#pragma once

#include <cstdint>

namespace tessera::quant {

// q: d floats; keys_t: the slot keys transposed, [d][N]; values: [N][d]; scores: N floats of scratch.
// acc[i] += weight · Σ_n softmax(query_scale · q·k_n)_n · v_n[i]. Slots whose shifted score is below
// -30 get weight 0 (together < N·e⁻³⁰ of the sum, far below float rounding) and are skipped in the mix.
void pmem_read(const float* q, float query_scale, const float* keys_t, const float* values, int64_t N, int64_t d,
               float weight, float* scores, float* acc);

}  // namespace tessera::quant
