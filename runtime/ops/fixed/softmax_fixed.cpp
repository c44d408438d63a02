// Fixed-point softmax (TFLite int8-softmax style): differences max s - s_i in Q5.26, e^{-d} in Q0.31
// by exp_on_negative_q26, differences ≥ 32 cut to weight 0 (e^-32 = 1.3e-14 per key: invisible in
// Q1.15 for n < 2^31), then Q1.15 outputs that sum to exactly 1.
#include "ops/fixed/fixed_math.h"

namespace tessera::ops::fixed {
namespace {

const uint32_t kDiffCutQ26 = 32u << 26;  // 32.0 in Q5.26 (= 2^31: outside int32's positive range)

// e^{-(max - s_i)} in Q0.31, 0 at or beyond the cut.
int32_t weight(int32_t qmax, int32_t qi, ScoreScale scale) {
  uint32_t diff = static_cast<uint32_t>(static_cast<int64_t>(qmax) - qi);
  uint32_t d = scaled_difference(diff, scale, 26, 1, kDiffCutQ26);
  if (d >= kDiffCutQ26) return 0;
  return exp_on_negative_q26(-static_cast<int32_t>(d));
}

}  // namespace

void softmax_fixed(const int32_t* q, ScoreScale scale, int32_t* p, size_t n, const uint8_t* mask) {
  int32_t qmax;
  if (!usable_max(q, n, mask, &qmax)) {
    for (size_t i = 0; i < n; ++i) p[i] = 0;
    return;
  }
  const int shift = weight_shift(n, 31);  // keeps Σ weights < 2^48 for n > 2^17
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    p[i] = usable_key(mask, i) ? (weight(qmax, q[i], scale) >> shift) : 0;
    total += static_cast<uint32_t>(p[i]);
  }
  CumulativeRounder round(total);
  for (size_t i = 0; i < n; ++i) p[i] = round.next(static_cast<uint32_t>(p[i]));
}

}  // namespace tessera::ops::fixed
