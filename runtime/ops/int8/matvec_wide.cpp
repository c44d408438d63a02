// Plane-split wide matvec (see matvec_wide.h).
#include "ops/int8/matvec_wide.h"

namespace tessera::ops::int8 {

void split_wide(const int16_t* x, int64_t n, int8_t* hi, int8_t* lo) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = x[i];
    // x = 255k + r with r ∈ [-127, 127] is unique; (|x| + 127) / 255 (truncating) recovers |k|. The division
    // as a multiply, u/255 = (u·32897) >> 23 for 0 ≤ u < 2^16 (Int8Wide.SplitIsExactOverTheWholeRange), and the sign by
    // select keep the loop branch-free so the compiler vectorises it.
    const uint32_t a = uint32_t(v < 0 ? -v : v) + 127;
    const int32_t k = int32_t((a * 32897u) >> 23);
    const int32_t h = v < 0 ? -k : k;
    hi[i] = int8_t(h);
    lo[i] = int8_t(v - 255 * h);
  }
}

void matvec_wide(MatvecFn fn, const int8_t* w_hi, const int8_t* w_lo, int64_t rows, int64_t cols, const int8_t* x_hi,
                 const int8_t* x_lo, int32_t* scratch, int64_t* y) {
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
