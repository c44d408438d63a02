// entmax α = 1.5 (biweight): p_i = [s_i/2 - τ]_+^2, Σp = 1.
// Exact threshold (ops/entmax_exact.h); usable-key conventions of ops/row_common.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::ops {

// scratch: n floats.
void entmax15_row(const float* s, float* p, size_t n, const uint8_t* mask, float* scratch);

}  // namespace tessera::ops
