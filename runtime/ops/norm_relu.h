// Normalised ReLU (fixed-bandwidth Epanechnikov), as the seed code computes it:
// w_i = relu(scale·s_i + bias) on usable keys, p_i = w_i / max(Σw, 1e-6).
// - Σw = 0: uniform over the usable keys (the seed's fallback over valid keys).
// - 0 < Σw < 1e-6: Σp = Σw/1e-6 < 1 — the authors' clamp, kept on purpose.
// - some w_i = +inf (s = ±inf times a scale of that sign): uniform over those keys (the limit).
// The backend maps the seed forms to (scale, bias): regular ReLU(2β²s + 1 - 2β²), EFT ReLU(cos).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::ops {

void norm_relu_row(const float* s, float* p, size_t n, const uint8_t* mask, float scale, float bias);

}  // namespace tessera::ops
