// int8 × int8 → int32 matrix–vector and matrix–matrix products: y[r] = Σ_c W[r][c]·x[c].
// Weights are symmetric int8 in [-127, 127] (by construction); activations may use the full
// [-128, 127]. That is what lets the AVX2 maddubs path never saturate: |x|·|w| pair sums are at most
// 2·128·127 = 32512 < 2^15. Every variant is
// exact integer arithmetic, so all variants are bit-identical to the portable one (tested).
#pragma once

#include <stddef.h>
#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

// W: rows × cols, row-major, row stride `cols`. Requires |W| ≤ 127, x ∈ [-128, 127], and
// cols ≤ 2^17 (so the int32 sum cannot overflow: 2^17·128·127 < 2^31).
using MatvecFn = void (*)(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);

void matvec_i8_portable(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
// Defined only in builds for the matching architecture (runtime/ops/CMakeLists.txt); int8_kernels.h
// chooses among them.
void matvec_i8_avx2(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
void matvec_i8_avx512vnni(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
void matvec_i8_neon_dot(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
void matvec_i8_cortex_m_dsp(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);
void matvec_i8_helium(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y);

}  // namespace tessera::ops::int8
