// Cortex-M DSP-extension int8 matrix × int16 vector (matvec_q16.h), built only for DSP targets. The query
// is packed once per call into the lane order SXTB16 gives the weights: (q0, q2) and (q1, q3) per group of
// four columns; SMLAD then adds two int8·int16 products (exact in int32) per instruction. Same bits as
// the portable loop (|Σ| < 2^31 by matvec_q16.h's bounds).
#include <arm_acle.h>

#include "ops/int8/matvec_q16.h"

namespace tessera::ops::int8 {
namespace {

constexpr int32_t kMaxQuads = 128;  // cols < 512 (matvec_q16.h)

inline int32_t load_word(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);  // unaligned LDR (allowed on Armv7E-M and Armv8.1-M)
  return v;
}

inline int32_t rotate8(int32_t v) { return int32_t((uint32_t(v) >> 8) | (uint32_t(v) << 24)); }

inline int32_t pack(int16_t lo, int16_t hi) { return int32_t(uint32_t(uint16_t(lo)) | (uint32_t(uint16_t(hi)) << 16)); }

}  // namespace

void matvec_q16_cortex_m_dsp(const int8_t* w, int64_t rows, int64_t cols, const int16_t* q, int32_t* y) {
  const int32_t n = int32_t(cols), quads = n / 4;
  if (quads > kMaxQuads) {
    matvec_q16_portable(w, rows, cols, q, y);
    return;
  }
  int32_t q_even[kMaxQuads], q_odd[kMaxQuads];
  for (int32_t g = 0; g < quads; ++g) {
    q_even[g] = pack(q[4 * g], q[4 * g + 2]);
    q_odd[g] = pack(q[4 * g + 1], q[4 * g + 3]);
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    int32_t acc = 0;
    for (int32_t g = 0; g < quads; ++g) {
      const int32_t v = load_word(wr + 4 * g);
      acc = __smlad(__sxtb16(v), q_even[g], acc);
      acc = __smlad(__sxtb16(rotate8(v)), q_odd[g], acc);
    }
    for (int32_t c = 4 * quads; c < n; ++c) acc += int32_t(wr[c]) * int32_t(q[c]);
    y[r] = acc;
  }
}

}  // namespace tessera::ops::int8
