// Per-head L2 normalisation in fixed point: out = round(2^15 · v/‖v‖) as int16 (Q15, |out| ≤ 32767),
// one integer reciprocal square root per head. A zero head gives zeros (the float reference
// divides 0/0; the authors' EFT file adds ε and also gives 0).
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

void l2norm_fixed_q15(const int32_t* v, int64_t n_head, int64_t head_dim, int16_t* out);

// A kernel-table entry (int8_kernels.h); every variant gives l2norm_fixed_q15's bits.
using L2NormFn = void (*)(const int32_t* v, int64_t n_head, int64_t head_dim, int16_t* out);
// x86-64 only (AVX-512F/BW/VL: masked int32 loads and int16 stores); in the AVX-512 VNNI kernel table.
void l2norm_fixed_q15_avx512(const int32_t* v, int64_t n_head, int64_t head_dim, int16_t* out);

}  // namespace tessera::ops::int8
