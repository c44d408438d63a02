// Y[t, r] = Σ_k X[t, k] · W[r, k] (+ b[r]) for rows [r0, r1) of W and every position t: the batched
// forward pass's projections. Tiles of 4 rows × 2 positions keep 8 vector accumulators in
// registers (GCC/Clang vector extensions, so every ISA builds it); each output's summation order
// depends only on k, never on the tile or thread that computes it.
#pragma once

#include <cstdint>

namespace tessera::quant {

void matmul_rows(const float* X, const float* W, const float* bias, float* Y, int64_t T, int64_t rows, int64_t r0,
                 int64_t r1, int64_t cols);

}  // namespace tessera::quant
