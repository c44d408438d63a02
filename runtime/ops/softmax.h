// softmax: p_i = exp(s_i - max s) / Σ_j exp(s_j - max s) over the usable keys (row_common.h conventions).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::ops {

void softmax_row(const float* s, float* p, size_t n, const uint8_t* mask);

}  // namespace tessera::ops
