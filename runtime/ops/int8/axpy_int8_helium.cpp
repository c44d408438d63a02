// Helium (MVE) r += Σ_k a[k]·v[k] (axpy_int8.h), built only for MVE targets: four int32 columns at a time
// stay in one vector over all rows (VLDRB.S32 widens four int8, VMLA adds a[k] times them). Same
// products and sums as the portable loop (the zero-weight rows it skips add zero): same bits.
#include <arm_mve.h>

#include "ops/int8/axpy_int8.h"

namespace tessera::ops::int8 {

void axpy_i8_helium(const int32_t* a, const int8_t* v, int64_t rows, int64_t cols, int32_t* r) {
  const int32_t n = int32_t(cols);
  for (int32_t c = 0; c < n; c += 4) {
    const mve_pred16_t p = vctp32q(uint32_t(n - c));
    int32x4_t acc = vldrwq_z_s32(r + c, p);
    const int8_t* col = v + c;
    for (int64_t k = 0; k < rows; ++k) acc = vmlaq_n_s32(acc, vldrbq_z_s32(col + k * cols, p), a[k]);
    vstrwq_p_s32(r + c, acc, p);
  }
}

}  // namespace tessera::ops::int8
