#pragma once

#include <cstdint>

namespace tessera::ops {

// y = (x - mean)/sqrt(var + eps)·weight (+ bias); weight/bias may be null (ones/zeros).
// Mean and variance accumulate in double (C terms), so y is correctly rounded to ~1 ulp.
void layer_norm_f32(const float* x, const float* weight, const float* bias, float eps, float* y, int64_t n);

}  // namespace tessera::ops
