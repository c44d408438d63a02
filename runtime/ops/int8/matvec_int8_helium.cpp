// Helium (M-profile Vector Extension, Armv8.1-M: Cortex-M55/M85) int8 matvec, built only for MVE targets
// and chosen at build time. VMLADAVA adds the sixteen int8×int8 products of a vector pair to a scalar
// int32 accumulator exactly; the tail is predicated (VCTP), so no scalar loop. Same bits as portable.
#include <arm_mve.h>

#include "ops/int8/matvec_int8.h"

namespace tessera::ops::int8 {

void matvec_i8_helium(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  const int32_t n = int32_t(cols);
  int64_t r = 0;
  for (; r + 2 <= rows; r += 2) {  // two rows share each activation vector
    const int8_t* w0 = w + r * cols;
    const int8_t* w1 = w0 + cols;
    int32_t acc0 = 0, acc1 = 0;
    for (int32_t c = 0; c < n; c += 16) {
      const mve_pred16_t p = vctp8q(uint32_t(n - c));
      const int8x16_t xv = vldrbq_z_s8(x + c, p);
      acc0 = vmladavaq_p_s8(acc0, vldrbq_z_s8(w0 + c, p), xv, p);
      acc1 = vmladavaq_p_s8(acc1, vldrbq_z_s8(w1 + c, p), xv, p);
    }
    y[r] = acc0;
    y[r + 1] = acc1;
  }
  if (r < rows) {
    const int8_t* w0 = w + r * cols;
    int32_t acc = 0;
    for (int32_t c = 0; c < n; c += 16) {
      const mve_pred16_t p = vctp8q(uint32_t(n - c));
      acc = vmladavaq_p_s8(acc, vldrbq_z_s8(w0 + c, p), vldrbq_z_s8(x + c, p), p);
    }
    y[r] = acc;
  }
}

}  // namespace tessera::ops::int8
