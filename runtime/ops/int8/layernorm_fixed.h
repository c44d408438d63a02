// Fixed-point LayerNorm without affine part (the gain and bias are folded into the next
// projection by `tessera quantize`): out = sat8(round((x - mean)/sqrt(var + ε) / s_out)).
// x is the int32 residual stream at scale s_x; ε_int = ε / s_x² (precomputed, integer units);
// inv_out_scale = 1/s_out as a quantized multiplier. Integer reciprocal sqrt (fixed_point.h).
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8 {

void layernorm_fixed(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale, int8_t* out);
// The same normalisation with an int16 output saturated to [-32512, 32512] (a wide site, matvec_wide.h).
void layernorm_fixed_wide(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale,
                          int16_t* out);

// Both kernel-table entries (int8_kernels.h); every variant gives the functions' bits. x86-64 only: the
// AVX-512 variants, in the AVX-512 VNNI table.
using LayerNormFn = void (*)(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale,
                             int8_t* out);
using LayerNormWideFn = void (*)(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale,
                                 int16_t* out);
void layernorm_fixed_avx512(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale,
                            int8_t* out);
void layernorm_fixed_wide_avx512(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale,
                                 int16_t* out);

}  // namespace tessera::ops::int8
