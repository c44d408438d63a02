// Plane-split wide matvec (see matvec_wide.h).
#include "ops/int8/matvec_wide.h"

namespace tessera::ops::int8 {

void split_wide(const int16_t* x, int64_t n, int8_t* hi, int8_t* lo) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = x[i];
    // x = 255k + r with r ∈ [-127, 127] is unique; (|x| + 127) / 255 (truncating) recovers |k|.
    const int32_t h = v >= 0 ? (v + 127) / 255 : -((-v + 127) / 255);
    hi[i] = int8_t(h);
    lo[i] = int8_t(v - 255 * h);
  }
}

void matvec_wide(MatvecFn fn, const int8_t* w_hi, const int8_t* w_lo, int64_t rows, int64_t cols,
                 const int8_t* x_hi, const int8_t* x_lo, int32_t* scratch, int64_t* y) {
  const int64_t fw = w_lo ? 255 : 1, fx = x_lo ? 255 : 1;
  fn(w_hi, rows, cols, x_hi, scratch);
  for (int64_t r = 0; r < rows; ++r) y[r] = fw * fx * int64_t(scratch[r]);
  if (x_lo) {
    fn(w_hi, rows, cols, x_lo, scratch);
    for (int64_t r = 0; r < rows; ++r) y[r] += fw * int64_t(scratch[r]);
  }
  if (w_lo) {
    fn(w_lo, rows, cols, x_hi, scratch);
    for (int64_t r = 0; r < rows; ++r) y[r] += fx * int64_t(scratch[r]);
    if (x_lo) {
      fn(w_lo, rows, cols, x_lo, scratch);
      for (int64_t r = 0; r < rows; ++r) y[r] += int64_t(scratch[r]);
    }
  }
}

}  // namespace tessera::ops::int8
