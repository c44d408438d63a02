// Cortex-M DSP-extension int8 matvec (Armv7E-M / Armv8.1-M with __ARM_FEATURE_DSP; built only for those
// targets, chosen at build time). SXTB16 sign-extends bytes 0 and 2 (or, after an 8-bit rotate, 1 and 3)
// of a word into two int16 halves; SMLAD adds both halfword products to the accumulator. Products and
// partial sums are the portable kernel's exactly (|sum| < 2^31, see matvec_int8.h): same bits.
#include <arm_acle.h>

#include "ops/int8/matvec_int8.h"

namespace tessera::ops::int8 {
namespace {

inline int32_t load_word(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);  // unaligned LDR (allowed on Armv7E-M and Armv8.1-M)
  return v;
}

// Bytes 1 and 3 into bytes 0 and 2 (GCC folds the rotate into SXTB16's operand).
inline int32_t rotate8(int32_t v) { return int32_t((uint32_t(v) >> 8) | (uint32_t(v) << 24)); }

}  // namespace

void matvec_i8_cortex_m_dsp(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  const int32_t n = int32_t(cols), quads = n / 4;
  int64_t r = 0;
  for (; r + 2 <= rows; r += 2) {  // two rows share each unpacked activation word
    const int8_t* w0 = w + r * cols;
    const int8_t* w1 = w0 + cols;
    int32_t acc0 = 0, acc1 = 0;
    for (int32_t q = 0; q < quads; ++q) {
      const int32_t xv = load_word(x + 4 * q);
      const int16x2_t x_even = __sxtb16(xv), x_odd = __sxtb16(rotate8(xv));
      const int32_t a = load_word(w0 + 4 * q), b = load_word(w1 + 4 * q);
      acc0 = __smlad(__sxtb16(a), x_even, acc0);
      acc0 = __smlad(__sxtb16(rotate8(a)), x_odd, acc0);
      acc1 = __smlad(__sxtb16(b), x_even, acc1);
      acc1 = __smlad(__sxtb16(rotate8(b)), x_odd, acc1);
    }
    for (int32_t c = 4 * quads; c < n; ++c) {
      acc0 += int32_t(w0[c]) * int32_t(x[c]);
      acc1 += int32_t(w1[c]) * int32_t(x[c]);
    }
    y[r] = acc0;
    y[r + 1] = acc1;
  }
  if (r < rows) matvec_i8_portable(w + r * cols, 1, cols, x, y + r);
}

}  // namespace tessera::ops::int8
