// Requantisation of int32 accumulators: per-row multipliers (per output channel of an int8 matrix)
// map W·x sums to a common activation scale. Integer-only (see fixed_point.h).
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8 {

// out[r] = MBQM(acc[r] + bias[r], m[r]) (bias may be null; it is at the accumulator's scale).
void requantize_to_int32(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                         int32_t* out);
// Same, saturated to [-127, 127].
void requantize_to_int8(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n, int8_t* out);
// residual[r] = sat32(residual[r] + MBQM(acc[r] + bias[r], m[r])): the residual-stream update.
void requantize_add_to_int32(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                             int32_t* residual);
// One multiplier for all rows (activations at a per-tensor scale), saturated to int8.
void requantize_uniform_to_int8(const int32_t* x, QuantizedMultiplier m, int64_t n, int8_t* out);

// out[r] = MBQM(x[r], m[r]) for n values, one multiplier each (the persistent memory's per-slot score
// and value-weight requantisations). Every variant gives exactly multiply_by_quantized_multiplier's bits.
using RequantizeFn = void (*)(const int32_t* x, const QuantizedMultiplier* m, int64_t n, int32_t* out);
void requantize_each_portable(const int32_t* x, const QuantizedMultiplier* m, int64_t n, int32_t* out);
// x86-64 only (AVX-512); in the AVX-512 VNNI kernel table (int8_kernels.h).
void requantize_each_avx512(const int32_t* x, const QuantizedMultiplier* m, int64_t n, int32_t* out);
void requantize_each_helium(const int32_t* x, const QuantizedMultiplier* m, int64_t n, int32_t* out);  // Cortex-M MVE

// The same for int64 accumulators (matvec_wide): one exact rounding (multiply_by_quantized_multiplier_64).
void requantize64_to_int32(const int64_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                           int32_t* out);
void requantize64_add_to_int32(const int64_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                               int32_t* residual);
// The four above as kernel-table entries (int8_kernels.h); every variant gives their bits. x86-64 only:
// the AVX-512 variants, in the AVX-512 VNNI table.
using RequantizeRowsFn = void (*)(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                  int32_t* out);
void requantize_to_int32_avx512(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                int32_t* out);
void requantize_add_to_int32_avx512(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                    int32_t* residual);
using Requantize64Fn = void (*)(const int64_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                int32_t* out);
void requantize64_to_int32_avx512(const int64_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                  int32_t* out);
void requantize64_add_to_int32_avx512(const int64_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                                      int32_t* residual);
// One multiplier for all rows, saturated to the int16 activation range [-32512, 32512].
void requantize_uniform_to_wide(const int32_t* x, QuantizedMultiplier m, int64_t n, int16_t* out);
// The two uniform requantisations as kernel-table entries (int8_kernels.h): x86-64 AVX-512 variants in the
// AVX-512 VNNI table; every variant gives their bits.
using RequantizeUniformInt8Fn = void (*)(const int32_t* x, QuantizedMultiplier m, int64_t n, int8_t* out);
using RequantizeUniformWideFn = void (*)(const int32_t* x, QuantizedMultiplier m, int64_t n, int16_t* out);
void requantize_uniform_to_int8_avx512(const int32_t* x, QuantizedMultiplier m, int64_t n, int8_t* out);
void requantize_uniform_to_wide_avx512(const int32_t* x, QuantizedMultiplier m, int64_t n, int16_t* out);
// The same for int64 values (the persistent memory's output with an int16 M_v); portable only.
using Requantize64UniformInt8Fn = void (*)(const int64_t* x, QuantizedMultiplier m, int64_t n, int8_t* out);
using Requantize64UniformWideFn = void (*)(const int64_t* x, QuantizedMultiplier m, int64_t n, int16_t* out);
void requantize64_uniform_to_wide(const int64_t* x, QuantizedMultiplier m, int64_t n, int16_t* out);
void requantize64_uniform_to_int8(const int64_t* x, QuantizedMultiplier m, int64_t n, int8_t* out);

}  // namespace tessera::ops::int8
