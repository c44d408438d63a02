// Slot-quad layout and the portable value sum on it (see axpy_quads.h).
#include "ops/int8/axpy_quads.h"

namespace tessera::ops::int8 {

void axpy_quads_layout(const int8_t* v, int64_t rows, int64_t cols, int8_t* vq) {
  for (int64_t g = 0; g < rows / 4; ++g)
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t t = 0; t < 4; ++t) vq[(g * cols + c) * 4 + t] = v[(4 * g + t) * cols + c];
}

void axpy_quads_portable(const int32_t* a, const int8_t* vq, int64_t rows, int64_t cols, int32_t* r) {
  for (int64_t g = 0; g < rows / 4; ++g) {
    const int8_t* quad = vq + g * cols * 4;
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t t = 0; t < 4; ++t) r[c] += a[4 * g + t] * int32_t(quad[c * 4 + t]);
  }
}

}  // namespace tessera::ops::int8
