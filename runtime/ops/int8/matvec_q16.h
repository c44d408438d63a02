// int8 matrix × int16 vector → int32: y[r] = Σ_c W[r][c]·q[c], for the persistent memory's scores q·M_k
// (Q15 unit query, int8 M_k). One pass over W (the byte-split alternative, q = 256·hi + lo + 128 on the
// int8 kernels, reads W twice: it dominates memory traffic for large N·d). Exact when
// |Σ| < 2^31: |q| ≤ 2^15, |W| ≤ 127, cols < 512 (the pairwise int16 products of vpmaddwd are exact:
// 2·2^15·127 < 2^31). Every variant gives the same bits as the portable loop.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

using MatvecQ16Fn = void (*)(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y);

void matvec_q16_portable(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y);
// x86-64 only; in the AVX2 and AVX-512 VNNI kernel tables (int8_kernels.h).
void matvec_q16_avx2(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y);
void matvec_q16_avx512(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y);
// Cortex-M only (DSP extension, Helium); chosen at build time.
void matvec_q16_cortex_m_dsp(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y);
void matvec_q16_helium(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y);

}  // namespace tessera::ops::int8
