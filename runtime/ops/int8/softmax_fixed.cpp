// Fixed-point exp and softmax (see softmax_fixed.h).
#include "ops/int8/softmax_fixed.h"

#include "ops/int8/exp_table.h"

namespace tessera::ops::int8 {

int32_t exp_neg_q30(int64_t x, int frac_bits) {
  if (x >= 0) return int32_t(1) << 30;
  // y = -x·log2(e) in Q(frac_bits + 30) → keep 8 + 22 = 30 fraction bits: Q30.
  const uint64_t ax = uint64_t(-x);
  if (ax >> (frac_bits + 6) != 0) return 0;                    // x < -64: e^x < 2^-92, rounds to 0
  const uint64_t y = (ax * uint64_t(kLog2EQ30)) >> frac_bits;  // Q30, ≤ 64·1.45·2^30 < 2^37
  const uint64_t whole = y >> 30;
  if (whole >= 31) return 0;
  const uint32_t frac = uint32_t(y & ((uint64_t(1) << 30) - 1));  // Q30 fraction of one octave
  const uint32_t index = frac >> 22;                              // top 8 bits
  const uint32_t rest = frac & ((1u << 22) - 1);                  // Q22 between table entries
  const int64_t a = kExp2NegQ30[index], b = kExp2NegQ30[index + 1];
  const int64_t interpolated = a - (((a - b) * int64_t(rest) + (int64_t(1) << 21)) >> 22);
  return int32_t((interpolated + ((int64_t(1) << whole) >> 1)) >> whole);
}

void softmax_fixed_q23(const int32_t* s, int64_t n, int frac_bits, int32_t* p) {
  int32_t max = s[0];
  for (int64_t i = 1; i < n; ++i)
    if (s[i] > max) max = s[i];
  uint64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    p[i] = exp_neg_q30(int64_t(s[i]) - max, frac_bits);
    sum += uint64_t(p[i]);
  }
  // sum ∈ [2^30, n·2^30]; reciprocal 2^62/sum ≤ 2^32; p·recip ≤ 2^62 fits in uint64.
  const uint64_t recip = (uint64_t(1) << 62) / sum;
  for (int64_t i = 0; i < n; ++i)
    p[i] = int32_t((uint64_t(p[i]) * recip + (uint64_t(1) << (62 - kProbabilityFracBits - 1))) >>
                   (62 - kProbabilityFracBits));
}

}  // namespace tessera::ops::int8
