// aarch64 NEON dot-product int8 matvec (compiled with -march=armv8.2-a+dotprod; used only when the
// CPU reports asimddp: int8_kernels.cpp). sdot sums four int8×int8 products into each int32 lane
// exactly, so the result is bit-identical to the portable kernel.
#include <arm_neon.h>

#include "ops/int8/matvec_int8.h"

namespace tessera::ops::int8 {

void matvec_i8_neon_dot(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  const int64_t vec_cols = cols & ~int64_t(15);
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    int32x4_t acc0 = vdupq_n_s32(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    const int8_t* w0 = w + r * cols;
    for (int64_t c = 0; c < vec_cols; c += 16) {
      const int8x16_t xv = vld1q_s8(x + c);
      acc0 = vdotq_s32(acc0, vld1q_s8(w0 + c), xv);
      acc1 = vdotq_s32(acc1, vld1q_s8(w0 + cols + c), xv);
      acc2 = vdotq_s32(acc2, vld1q_s8(w0 + 2 * cols + c), xv);
      acc3 = vdotq_s32(acc3, vld1q_s8(w0 + 3 * cols + c), xv);
    }
    int32_t s[4] = {vaddvq_s32(acc0), vaddvq_s32(acc1), vaddvq_s32(acc2), vaddvq_s32(acc3)};
    for (int k = 0; k < 4; ++k) {
      const int8_t* wr = w0 + k * cols;
      for (int64_t c = vec_cols; c < cols; ++c) s[k] += int32_t(wr[c]) * int32_t(x[c]);
      y[r + k] = s[k];
    }
  }
  for (; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    int32x4_t acc = vdupq_n_s32(0);
    for (int64_t c = 0; c < vec_cols; c += 16) acc = vdotq_s32(acc, vld1q_s8(wr + c), vld1q_s8(x + c));
    int32_t s = vaddvq_s32(acc);
    for (int64_t c = vec_cols; c < cols; ++c) s += int32_t(wr[c]) * int32_t(x[c]);
    y[r] = s;
  }
}

}  // namespace tessera::ops::int8
