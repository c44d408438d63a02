// sparsemax (α = 2, Epanechnikov): p_i = [s_i - τ]_+, Σp = 1.
// Exact threshold (ops/entmax_exact.h); usable-key conventions of ops/row_common.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::ops {

// scratch: n floats.
void sparsemax_row(const float* s, float* p, size_t n, const uint8_t* mask, float* scratch);

}  // namespace tessera::ops
