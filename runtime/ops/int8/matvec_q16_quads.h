// The persistent memory's scores q·M_k (matvec_q16.h: int8 rows × an int16 query, exact int32) on M_k
// re-laid out at load in column quads, so a VNNI CPU gets 16 slots per vpdpbusd with no reduction:
//   wq[(g·rows + n)·4 + t] = W[n][4g + t]   (cols % 4 == 0; any rows).
// The VNNI kernel splits the query exactly as q = 256·hi + lo, lo = q & 255 ∈ [0, 255] (unsigned bytes as
// they are), hi = q >> 8 ∈ [-128, 127] (|hi| against W with hi's sign folded in). Same contract as
// matvec_q16.h (|W| ≤ 127, |q| ≤ 2^15, cols < 512); every variant gives matvec_q16_portable's bits.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

using MatvecQ16QuadsFn = void (*)(const int8_t* wq, int64_t rows, int64_t cols, const int16_t* q, int32_t* y);

// W (rows × cols, row-major) → the column-quad layout above; cols % 4 == 0. Done once at load.
void matvec_q16_quads_layout(const int8_t* w, int64_t rows, int64_t cols, int8_t* wq);

void matvec_q16_quads_portable(const int8_t* wq, int64_t rows, int64_t cols, const int16_t* q, int32_t* y);
// x86-64 only; in the AVX-512 VNNI kernel table (int8_kernels.h).
void matvec_q16_quads_avx512vnni(const int8_t* wq, int64_t rows, int64_t cols, const int16_t* q, int32_t* y);

}  // namespace tessera::ops::int8
