// General α-entmax, α > 1: p_i = [(α-1)(s_i - max s) - τ]_+^{1/(α-1)}, Σp = 1.
// Support by the sorted prefix test, then τ by safeguarded Newton inside the support's bracket,
// iterated to convergence (not to a budget). Usable-key conventions of ops/row_common.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::ops {

// scratch: n floats. alpha > 1 (validated at load).
void entmax_alpha_row(double alpha, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch);

// τ for sorted-descending candidates z[0..m) (max 0, all > -1), exponent r = 1/(α-1).
double entmax_alpha_threshold_sorted(double r, const float* z, size_t m);

}  // namespace tessera::ops
