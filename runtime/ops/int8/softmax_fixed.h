// Integer exponential of non-positive fixed-point numbers and the fixed-point softmax built on it
// (persistent-memory softmax of the int8 backend; also the contextual softmax).
//
// exp(x) = 2^(x·log2 e): the integer part of -x·log2 e is a right shift, the fraction indexes a
// 257-entry Q30 table of 2^(-i/256) with linear interpolation (error ≤ 2^-20 relative). The table is
// a constant generated offline (round(2^30·2^(-i/256))) so no float is needed at run time.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

// round(2^30 · e^(x / 2^frac_bits)) for x ≤ 0 (x > 0 is treated as 0), frac_bits ∈ [0, 30].
int32_t exp_neg_q30(int64_t x, int frac_bits);

// p = softmax(s) with s in Q(frac_bits) (real = s·2^-frac_bits); p in Q23 (Σp = 2^23 up to rounding,
// each p within 2^-20 relative + 1 LSB of the exact value). n ≥ 1.
void softmax_fixed_q23(const int32_t* s, int64_t n, int frac_bits, int32_t* p);

// The same softmax as a kernel-table entry (int8_kernels.h); every
// variant gives exactly softmax_fixed_q23's bits.
using SoftmaxQ23Fn = void (*)(const int32_t* s, int64_t n, int frac_bits, int32_t* p);
// x86-64 only; in the AVX-512 VNNI kernel table (int8_kernels.h).
void softmax_fixed_q23_avx512(const int32_t* s, int64_t n, int frac_bits, int32_t* p);

inline constexpr int kProbabilityFracBits = 23;

}  // namespace tessera::ops::int8
