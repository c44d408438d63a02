// int8 × int8 → int32 matrix–vector and matrix–matrix products: y[r] = Σ_c W[r][c]·x[c].
// Weights are symmetric int8 in [-127, 127] (by construction); activations may use the full
// [-128, 127]. That is what lets the AVX2 maddubs path never saturate: |x|·|w| pair sums are at most
// 2·128·127 = 32512 < 2^15. Every variant is
// exact integer arithmetic, so all variants are bit-identical to the portable one (tested).
#pragma once

#include <stddef.h>
#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "ops/int8/axpy_int8.h"
#include "ops/int8/axpy_quads.h"
#include "ops/int8/cos_scores.h"
#include "ops/int8/l2norm_fixed.h"
#include "ops/int8/layernorm_fixed.h"
#include "ops/int8/leaky_average_fixed.h"
#include "ops/int8/matvec_q16_quads.h"
#include "ops/int8/matvec_q16.h"
#include "ops/int8/pmem_weights.h"
#include "ops/int8/requantize.h"
#include "ops/int8/softmax_fixed.h"
#include "ops/int8/value_sum_int16.h"

namespace tessera::ops::int8 {

enum class MatvecKernel { kAuto, kPortable, kAvx2, kAvx512Vnni, kNeonDot, kCortexMDsp, kHelium };

const char* matvec_kernel_name(MatvecKernel k);
// True when this build contains the variant and the running CPU supports it.
bool matvec_kernel_available(MatvecKernel k);
// kAuto → the fastest available variant; an unavailable request → kPortable.
MatvecKernel resolve_matvec_kernel(MatvecKernel requested);

// W: rows × cols, row-major, row stride `cols`. Requires |W| ≤ 127, x ∈ [-128, 127], and
// cols ≤ 2^17 (so the int32 sum cannot overflow: 2^17·128·127 < 2^31).
using MatvecFn = void (*)(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);

MatvecFn matvec_function(MatvecKernel k);  // k must be resolved (not kAuto)
// The axpy (axpy_int8.h) that goes with a resolved kernel: AVX2 for the x86 SIMD kernels, else portable.
AxpyFn axpy_function(MatvecKernel k);
// The slot-quad value sum (axpy_quads.h) where it beats `axpy` (the VNNI kernel); null elsewhere.
AxpyQuadsFn axpy_quads_function(MatvecKernel k);
ValueSumFn value_sum_function(MatvecKernel k);  // likewise for value_sum_int16.h
MatvecQ16Fn matvec_q16_function(MatvecKernel k);  // likewise for matvec_q16.h (AVX-512BW with VNNI)
RequantizeFn requantize_function(MatvecKernel k);  // requantize_each (requantize.h): AVX-512F with VNNI
SoftmaxQ23Fn softmax_function(MatvecKernel k);
PmemWeightsFn pmem_weights_function(MatvecKernel k);
MixHeadsFn mix_heads_function(MatvecKernel k);  // leaky_average_fixed.h: AVX-512F with VNNI
RequantizeUniformInt8Fn requantize_uniform_int8_function(MatvecKernel k);  // requantize.h: AVX-512F with VNNI
RequantizeUniformWideFn requantize_uniform_wide_function(MatvecKernel k);
CosScoresFn cos_scores_function(MatvecKernel k);
L2NormFn l2norm_function(MatvecKernel k);
LayerNormFn layernorm_function(MatvecKernel k);           // layernorm_fixed: AVX-512 with VNNI
LayerNormWideFn layernorm_wide_function(MatvecKernel k);  // layernorm_fixed_wide: likewise  // l2norm_fixed_q15 (l2norm_fixed.h): AVX-512 with VNNI
RequantizeRowsFn requantize_rows_function(MatvecKernel k);      // requantize_to_int32: AVX-512F with VNNI
RequantizeRowsFn requantize_rows_add_function(MatvecKernel k);  // requantize_add_to_int32: likewise
Requantize64Fn requantize64_function(MatvecKernel k);      // requantize64_to_int32: AVX-512F with VNNI
Requantize64Fn requantize64_add_function(MatvecKernel k);  // requantize64_add_to_int32: likewise
// q·M_k on column quads (matvec_q16_quads.h) where it beats the row layout (the VNNI kernel); null elsewhere.
MatvecQ16QuadsFn matvec_q16_quads_function(MatvecKernel k);  // the contextual scores (cos_scores.h): AVX-512F with VNNI    // softmax_fixed_q23 (softmax_fixed.h): AVX-512F with VNNI

void matvec_i8_portable(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
// Defined only in builds for the matching architecture (see runtime/ops/CMakeLists.txt).
void matvec_i8_avx2(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
void matvec_i8_avx512vnni(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
void matvec_i8_neon_dot(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
void matvec_i8_cortex_m_dsp(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
void matvec_i8_helium(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);

#if defined(TESSERA_HAVE_NEON_DOT)
bool neon_dot_supported();  // HWCAP_ASIMDDP (Linux) / compile-time feature elsewhere
#endif

}  // namespace tessera::ops::int8
