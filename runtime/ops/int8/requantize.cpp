// Per-row requantisation (see requantize.h).
#include "ops/int8/requantize.h"

namespace tessera::ops::int8 {

static inline int32_t biased(const int32_t* acc, const int32_t* bias, int64_t r) {
  return bias ? saturate_to_int32(int64_t(acc[r]) + bias[r]) : acc[r];
}

void requantize_to_int32(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                         int32_t* out) {
  for (int64_t r = 0; r < n; ++r) out[r] = multiply_by_quantized_multiplier(biased(acc, bias, r), m[r]);
}

void requantize_each_portable(const int32_t* x, const QuantizedMultiplier* m, int64_t n, int32_t* out) {
  for (int64_t r = 0; r < n; ++r) out[r] = multiply_by_quantized_multiplier(x[r], m[r]);
}

void requantize_to_int8(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n, int8_t* out) {
  for (int64_t r = 0; r < n; ++r)
    out[r] = saturate_to_int8(multiply_by_quantized_multiplier(biased(acc, bias, r), m[r]));
}

void requantize_add_to_int32(const int32_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                             int32_t* residual) {
  for (int64_t r = 0; r < n; ++r)
    residual[r] =
        saturate_to_int32(int64_t(residual[r]) + multiply_by_quantized_multiplier(biased(acc, bias, r), m[r]));
}

void requantize_uniform_to_int8(const int32_t* x, QuantizedMultiplier m, int64_t n, int8_t* out) {
  for (int64_t r = 0; r < n; ++r) out[r] = saturate_to_int8(multiply_by_quantized_multiplier(x[r], m));
}

void requantize64_to_int32(const int64_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                           int32_t* out) {
  for (int64_t r = 0; r < n; ++r) out[r] = multiply_by_quantized_multiplier_64(acc[r] + (bias ? bias[r] : 0), m[r]);
}

void requantize64_add_to_int32(const int64_t* acc, const QuantizedMultiplier* m, const int32_t* bias, int64_t n,
                               int32_t* residual) {
  for (int64_t r = 0; r < n; ++r)
    residual[r] = saturate_to_int32(int64_t(residual[r]) +
                                    multiply_by_quantized_multiplier_64(acc[r] + (bias ? bias[r] : 0), m[r]));
}

void requantize_uniform_to_wide(const int32_t* x, QuantizedMultiplier m, int64_t n, int16_t* out) {
  for (int64_t r = 0; r < n; ++r) out[r] = saturate_to_wide(multiply_by_quantized_multiplier(x[r], m));
}

void requantize64_uniform_to_wide(const int64_t* x, QuantizedMultiplier m, int64_t n, int16_t* out) {
  for (int64_t r = 0; r < n; ++r) out[r] = saturate_to_wide(multiply_by_quantized_multiplier_64(x[r], m));
}

void requantize64_uniform_to_int8(const int64_t* x, QuantizedMultiplier m, int64_t n, int8_t* out) {
  for (int64_t r = 0; r < n; ++r) out[r] = saturate_to_int8(multiply_by_quantized_multiplier_64(x[r], m));
}

}  // namespace tessera::ops::int8
