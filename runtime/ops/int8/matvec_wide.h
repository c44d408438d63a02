// Wide (int16) operands on the int8 kernels: a weight matrix or an activation vector stored as int16
// in [-32512, 32512] is split exactly into two int8 planes, v = 255·hi + lo with hi, lo ∈ [-127, 127]
// (32512 = 127·256 is the largest range where that split always exists), and W·x is assembled from
// plane products computed by the int8 matvec kernel (portable / AVX2 / VNNI / NEON dot):
//   W·x = 255²·(Wh·xh) + 255·(Wh·xl + Wl·xh) + Wl·xl      (only the planes that exist)
// Each plane product is the kernel's exact int32 (|Wp·xp| ≤ 127²·cols < 2^31); the sum is int64
// (|W·x| ≤ 32512²·cols < 2^47 for cols ≤ 2^17). So the result is the exact integer dot product, the
// same bits on every kernel and CPU. Used for the tensors the quantizer's precision search makes
// int16 (docs/numerics.md "Wide tensors").
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "ops/int8/fixed_point.h"
#include "ops/int8/matvec_int8.h"

namespace tessera::ops::int8 {

// hi[i] = round(x[i] / 255) (ties away from zero), lo[i] = x[i] - 255·hi[i]; x ∈ [-32512, 32512].
void split_wide(const int16_t* x, int64_t n, int8_t* hi, int8_t* lo);

// y[r] = Σ_c W[r][c]·x[c] with W = 255·w_hi + w_lo (w_lo null: W = w_hi) and x = 255·x_hi + x_lo
// (x_lo null: x = x_hi). `scratch` holds `rows` int32. Requires cols ≤ 2^17.
void matvec_wide(MatvecFn fn, const int8_t* w_hi, const int8_t* w_lo, int64_t rows, int64_t cols, const int8_t* x_hi,
                 const int8_t* x_lo, int32_t* scratch, int64_t* y);

}  // namespace tessera::ops::int8
