// The persistent memory's slot weights of one bank, in one kernel:
//   s_n  = MBQM(q·M_k[n], score_m[n])              (Q16 scores: requantize_each)
//   p    = softmax_q23(s)                           (softmax_fixed.h)
//   p'_n = MBQM(p_n, value_m[n])                    (the value weights: requantize_each)
// Every variant gives exactly those three steps' bits. The SIMD variant fuses them into three passes over
// the slots and, because these passes do no memory traffic of their own, streams the bank's value rows
// (the next kernel's operand, `prefetch`/`prefetch_bytes`) into the L2 cache meanwhile.
#pragma once

#include <stddef.h>
#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8 {

// dot: n int32 dot products; score_m / value_m: n multipliers each; scores: n words of scratch (may be dot);
// p: n outputs (may not alias dot or scores). n ≥ 1, frac_bits ∈ [0, 30]. `prefetch` may be null.
using PmemWeightsFn = void (*)(const int32_t* dot, const QuantizedMultiplier* score_m,
                               const QuantizedMultiplier* value_m, int64_t n, int frac_bits, int32_t* scores,
                               int32_t* p, const void* prefetch, size_t prefetch_bytes);
void pmem_weights_portable(const int32_t* dot, const QuantizedMultiplier* score_m, const QuantizedMultiplier* value_m,
                           int64_t n, int frac_bits, int32_t* scores, int32_t* p, const void* prefetch,
                           size_t prefetch_bytes);
// x86-64 only; in the AVX-512 VNNI kernel table (int8_kernels.h).
void pmem_weights_avx512(const int32_t* dot, const QuantizedMultiplier* score_m, const QuantizedMultiplier* value_m,
                         int64_t n, int frac_bits, int32_t* scores, int32_t* p, const void* prefetch,
                         size_t prefetch_bytes);

// Cortex-M with MVE (requantize_helium.cpp); chosen at build time.
void pmem_weights_helium(const int32_t* dot, const QuantizedMultiplier* score_m, const QuantizedMultiplier* value_m,
                         int64_t n, int frac_bits, int32_t* scores, int32_t* p, const void* prefetch,
                         size_t prefetch_bytes);

}  // namespace tessera::ops::int8
