// The persistent memory's value sum r[c] += Σ_k a[k]·V[k][c] (axpy_int8.h) on V re-laid out at load in
// slot quads, so a VNNI CPU can take four slots per vpdpbusd: quad g holds rows 4g..4g+3 column by column,
//   vq[(g·cols + c)·4 + t] = V[4g + t][c]   (rows % 4 == 0).
// The weights are the non-negative p'_n < 2^24 of the softmax (p' ≤ p ≤ 2^23): the VNNI kernel splits
// each into three unsigned bytes. Same no-overflow contract as axpy_int8.h (every partial sum < 2^31), so
// every variant gives exactly axpy_i8_portable's bits on the original layout.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

using AxpyQuadsFn = void (*)(const int32_t* a, const int8_t* vq, int64_t rows, int64_t cols, int32_t* r);

// V (rows × cols, row-major) → the quad layout above; rows % 4 == 0. Done once at load.
void axpy_quads_layout(const int8_t* v, int64_t rows, int64_t cols, int8_t* vq);

void axpy_quads_portable(const int32_t* a, const int8_t* vq, int64_t rows, int64_t cols, int32_t* r);
// x86-64 only; in the AVX-512 VNNI kernel table (int8_kernels.h).
void axpy_quads_avx512vnni(const int32_t* a, const int8_t* vq, int64_t rows, int64_t cols, int32_t* r);

}  // namespace tessera::ops::int8
