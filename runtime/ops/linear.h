// Float matrix-vector product, the workhorse of the float CPU runtime.
#pragma once

#include <cstdint>

namespace tessera::ops {

// y[r] = Σ_c W[r·cols + c] · x[c] (+ bias[r] when bias != nullptr), r in [0, rows).
// W row-major F32. Accumulates in 16 float lanes (vectorisable, deterministic order).
void linear_f32(const float* W, const float* bias, const float* x, float* y, int64_t rows, int64_t cols);

// Same dot as linear_f32 uses, exposed for callers that need one row.
float dot_f32(const float* a, const float* b, int64_t n);
// Dot product accumulated in double: used where β² ≈ 2·10⁴ turns float rounding into visible error.
double dot_f64(const float* a, const float* b, int64_t n);

}  // namespace tessera::ops
