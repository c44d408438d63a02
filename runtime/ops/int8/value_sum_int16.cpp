// Portable attention value sum (see value_sum_int16.h).
#include "ops/int8/value_sum_int16.h"

namespace tessera::ops::int8 {

void value_sum_i16_portable(const int32_t* p, const int16_t* v, int64_t rows, int64_t stride, int64_t cols,
                            int64_t* out) {
  for (int64_t j = 0; j < rows; ++j) {
    const int64_t w = p[j];
    const int16_t* row = v + j * stride;
    for (int64_t i = 0; i < cols; ++i) out[i] += w * row[i];
  }
}

}  // namespace tessera::ops::int8
