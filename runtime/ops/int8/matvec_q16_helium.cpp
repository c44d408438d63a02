// Helium (MVE) int8 matrix × int16 vector (matvec_q16.h), built only for MVE targets. VLDRB.S16 widens
// eight int8 weights into int16 lanes; VMLADAVA.S16 adds the eight int8·int16 products (exact in int32)
// to a scalar accumulator; the tail is predicated. Same bits as the portable loop.
#include <arm_mve.h>

#include "ops/int8/matvec_q16.h"

namespace tessera::ops::int8 {

void matvec_q16_helium(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y) {
  const int32_t n = int32_t(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    int32_t acc = 0;
    for (int32_t c = 0; c < n; c += 8) {
      const mve_pred16_t p = vctp16q(uint32_t(n - c));
      acc = vmladavaq_p_s16(acc, vldrbq_z_s16(wr + c, p), vldrhq_z_s16(q + c, p), p);
    }
    y[r] = acc;
  }
}

}  // namespace tessera::ops::int8
