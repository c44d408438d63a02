// Portable int8 value cache kernels (see value_sum_int8.h).
#include "ops/int8/value_sum_int8.h"

namespace tessera::ops::int8 {

void value_sum_i8_portable(const int32_t* p, const int8_t* v, int64_t rows, int64_t stride, int64_t cols,
                           int64_t* out) {
  for (int64_t j = 0; j < rows; ++j) {
    const int32_t w = p[j];
    const int8_t* row = v + j * stride;
    // |w·row[i]| ≤ 2^23·127 < 2^31: the product is exact in int32 (cheaper on a 32-bit core), the sum in int64.
    for (int64_t i = 0; i < cols; ++i) out[i] += int64_t(w * int32_t(row[i]));
  }
}

void unit_q15_to_q7(const int16_t* in, int64_t n, int8_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    int32_t q = (int32_t(in[i]) + 128) >> 8;  // arithmetic shift: floor, so this rounds half up
    if (q > 127) q = 127;
    if (q < -127) q = -127;
    out[i] = int8_t(q);
  }
}

}  // namespace tessera::ops::int8
