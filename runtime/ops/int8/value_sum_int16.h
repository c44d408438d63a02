// The contextual attention's output sum o[i] += Σ_j p_j·v_j[i] (int8_forward.cpp): Q23 weights p_j
// (0 ≤ p_j ≤ 2^23) times Q15 unit values v_j (int16) in int64 — each product reaches 2^38, so no
// narrower type is exact. v_j is row j of a strided cache: v + j·stride, `cols` entries. Exact; every
// variant gives the same bits.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

using ValueSumFn = void (*)(const int32_t* p, const int16_t* v, int64_t rows, int64_t stride, int64_t cols,
                            int64_t* out);

void value_sum_i16_portable(const int32_t* p, const int16_t* v, int64_t rows, int64_t stride, int64_t cols,
                            int64_t* out);
// x86-64 only; in the AVX2 and AVX-512 VNNI kernel tables (int8_kernels.h).
void value_sum_i16_avx2(const int32_t* p, const int16_t* v, int64_t rows, int64_t stride, int64_t cols, int64_t* out);
// x86-64 only; in the AVX-512 VNNI kernel table (int8_kernels.h).
void value_sum_i16_avx512(const int32_t* p, const int16_t* v, int64_t rows, int64_t stride, int64_t cols, int64_t* out);

}  // namespace tessera::ops::int8
