// Fixed-point ReLUmax: w_i = relu(b - (max s - s_i)) with the differences in Q11.20 (the seed's β²
// slope folded into the score scale) and b in Q11.20; p = w/Σw as exact rationals rounded to Q1.15
// with Σp = 1 exactly. b ≤ 0 (Σw = 0) gives the uniform distribution on the argmax keys.
#include "ops/fixed/fixed_math.h"

namespace tessera::ops::fixed {

void relumax_fixed(const int32_t* q, ScoreScale scale, int32_t bias_q20, int32_t* p, size_t n, const uint8_t* mask) {
  int32_t qmax;
  if (!usable_max(q, n, mask, &qmax)) {
    for (size_t i = 0; i < n; ++i) p[i] = 0;
    return;
  }
  const uint32_t bias = bias_q20 > 0 ? static_cast<uint32_t>(bias_q20) : 0;
  const int shift = weight_shift(n, 31);  // keeps Σ weights < 2^48 for n > 2^17
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    int32_t w = 0;
    if (usable_key(mask, i) && bias > 0) {
      uint32_t diff = static_cast<uint32_t>(static_cast<int64_t>(qmax) - q[i]);
      uint32_t d = scaled_difference(diff, scale, 20, 1, bias);
      w = static_cast<int32_t>((bias - d) >> shift);
    }
    p[i] = w;
    total += static_cast<uint32_t>(w);
  }
  if (total == 0) {  // b ≤ 0: uniform on the argmax keys
    for (size_t i = 0; i < n; ++i) {
      p[i] = usable_key(mask, i) && q[i] == qmax;
      total += static_cast<uint32_t>(p[i]);
    }
  }
  CumulativeRounder round(total);
  for (size_t i = 0; i < n; ++i) p[i] = round.next(static_cast<uint32_t>(p[i]));
}

}  // namespace tessera::ops::fixed
