// Portable contextual scores (see cos_scores.h): the forward pass's former inline loop.
#include "ops/int8/cos_scores.h"

namespace tessera::ops::int8 {

void cos_scores_portable(const int16_t* q, const int16_t* k, int64_t n, int64_t stride, int64_t d,
                         QuantizedMultiplier mult, int32_t* scores) {
  for (int64_t j = 0; j < n; ++j) {
    const int16_t* kj = k + j * stride;
    int32_t cos_q30 = 0;  // |Σ q·k| ≤ ‖q‖‖k‖ ≤ 2^30 for Q15 unit vectors: no overflow
    for (int64_t i = 0; i < d; ++i) cos_q30 += int32_t(q[i]) * int32_t(kj[i]);
    scores[j] = multiply_by_quantized_multiplier(cos_q30, mult);
  }
}

}  // namespace tessera::ops::int8
