// Portable weighted row sum (see axpy_int8.h). The x86-64 baseline (SSE2) has no 32-bit lane
// multiply, so compilers emulate it; axpy_int8_avx2.cpp is the vector version.
#include "ops/int8/axpy_int8.h"

namespace tessera::ops::int8 {

void axpy_i8_portable(const int32_t* a, const int8_t* v, int64_t rows, int64_t cols, int32_t* r) {
  for (int64_t k = 0; k < rows; ++k) {
    const int32_t w = a[k];
    if (w == 0) continue;
    const int8_t* row = v + k * cols;
    for (int64_t c = 0; c < cols; ++c) r[c] += w * int32_t(row[c]);
  }
}

}  // namespace tessera::ops::int8
