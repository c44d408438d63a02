// Column-quad layout and the portable int8 × int16 matvec on it (see matvec_q16_quads.h).
#include "ops/int8/matvec_q16_quads.h"

namespace tessera::ops::int8 {

void matvec_q16_quads_layout(const int8_t* w, int64_t rows, int64_t cols, int8_t* wq) {
  for (int64_t g = 0; g < cols / 4; ++g)
    for (int64_t n = 0; n < rows; ++n)
      for (int64_t t = 0; t < 4; ++t) wq[(g * rows + n) * 4 + t] = w[n * cols + 4 * g + t];
}

void matvec_q16_quads_portable(const int8_t* wq, int64_t rows, int64_t cols, const int16_t* q, int32_t* y) {
  for (int64_t n = 0; n < rows; ++n) {
    int32_t acc = 0;  // |Σ| ≤ 2^15·127·cols < 2^31 (matvec_q16.h)
    for (int64_t g = 0; g < cols / 4; ++g)
      for (int64_t t = 0; t < 4; ++t) acc += int32_t(wq[(g * rows + n) * 4 + t]) * int32_t(q[4 * g + t]);
    y[n] = acc;
  }
}

}  // namespace tessera::ops::int8
