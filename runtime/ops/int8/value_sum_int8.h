// The int8 value cache (`tessera quantize --value-cache int8`): the attention's unit values stored as
// Q7 int8 instead of Q15 int16, half the bytes. unit_q15_to_q7 writes a cache row; value_sum_i8 is the
// attention's output sum over it, o[i] += Σ_j p_j·v_j[i], with Q23 weights p_j (0 ≤ p_j ≤ 2^23) and Q7
// values (|v| ≤ 127): each product is below 2^30, the sum Q30 in int64 (exact for any number of rows; a
// softmax row, Σ p ≈ 2^23, stays below 2^30). v_j is row j of the strided cache: v + j·stride, `cols`
// entries. Same bits on every target (portable integer code; no ISA variant yet).
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

using ValueSumI8Fn = void (*)(const int32_t* p, const int8_t* v, int64_t rows, int64_t stride, int64_t cols,
                              int64_t* out);

void value_sum_i8_portable(const int32_t* p, const int8_t* v, int64_t rows, int64_t stride, int64_t cols, int64_t* out);

// Q15 → Q7 with rounding half up, (v + 128) >> 8, saturated to [-127, 127]: a unit vector's components lie
// in [-32767, 32767] (ops/int8/l2norm_fixed.h), so only 32640..32767 saturate (they would round to 128).
void unit_q15_to_q7(const int16_t* in, int64_t n, int8_t* out);

}  // namespace tessera::ops::int8
