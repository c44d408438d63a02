// Weighted row sum r[c] += Σ_k a[k]·V[k][c] for int32 weights a and an int8 matrix V (rows × cols,
// row-major): the persistent memory's value sum Σ_n p'_n·M_v[n] (int8_forward.cpp) over one bank's
// slots. Exact int32 arithmetic; the caller guarantees no partial sum overflows (there Σ|p'_n| ≤ 2^23
// and |M_v| ≤ 127, so every partial sum stays below 2^23·127 < 2^31 whatever the order). Rows with
// a[k] == 0 contribute nothing and may be skipped. Every variant gives the same bits.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

using AxpyFn = void (*)(const int32_t* a, const int8_t* v, int64_t rows, int64_t cols, int32_t* r);

void axpy_i8_portable(const int32_t* a, const int8_t* v, int64_t rows, int64_t cols, int32_t* r);
// x86-64 only (runtime/ops/CMakeLists.txt); in the AVX2 and AVX-512 VNNI kernel tables (int8_kernels.h).
void axpy_i8_avx2(const int32_t* a, const int8_t* v, int64_t rows, int64_t cols, int32_t* r);
// Cortex-M only (Helium); chosen at build time.
void axpy_i8_helium(const int32_t* a, const int8_t* v, int64_t rows, int64_t cols, int32_t* r);

}  // namespace tessera::ops::int8
