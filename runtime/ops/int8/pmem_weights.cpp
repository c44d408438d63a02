// The persistent memory's slot weights, portable: the three steps in order (see pmem_weights.h).
#include "ops/int8/pmem_weights.h"

#include "ops/int8/requantize.h"
#include "ops/int8/softmax_fixed.h"

namespace tessera::ops::int8 {

void pmem_weights_portable(const int32_t* dot, const QuantizedMultiplier* score_m, const QuantizedMultiplier* value_m,
                           int64_t n, int frac_bits, int32_t* scores, int32_t* p, const void* /*prefetch*/,
                           size_t /*prefetch_bytes*/) {
  requantize_each_portable(dot, score_m, n, scores);
  softmax_fixed_q23(scores, n, frac_bits, p);
  requantize_each_portable(p, value_m, n, p);
}

}  // namespace tessera::ops::int8
