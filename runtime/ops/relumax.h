// ReLUmax: p_i ∝ relu(scale·(s_i - max s) + bias), max over usable keys (row_common.h conventions).
// With bias > 0 the argmax has weight bias, so the sum is never 0. If it is (bias ≤ 0), the result is
// uniform over the argmax keys (the limit bias → 0+).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::ops {

void relumax_row(const float* s, float* p, size_t n, const uint8_t* mask, float scale, float bias);

}  // namespace tessera::ops
