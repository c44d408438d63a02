// One attention row: scores s[0..n) -> probabilities p[0..n) by the model's transform.
// This is the dispatch the backends call; each transform lives in its own file (ops/<name>.cpp)
// and has an exact float64 oracle in tests/ops/.
//
// Contract (all transforms): the caller validated the method at load; ops trust inputs.
// - n >= 1. `mask` is optional (n bytes, nonzero = the key takes part); masked p are exactly 0.
//   A row with every key masked yields all zeros.
// - `scratch` holds at least attention_scratch_floats(method, n) floats; no allocation happens here.
// - relumax:   p ∝ relu(relu_scale·(s - max s) + relu_bias)    (max over unmasked keys)
// - norm_relu: p ∝ relu(relu_scale·s + relu_bias), divided by max(Σ, 1e-6) as the seed code does;
//              uniform over unmasked keys when Σ = 0.
//   The backends derive relu_scale/relu_bias from β² and the seed form (see cpu/attention_row.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tessera/attention.h"

namespace tessera::ops {

struct RowTransform {
  AttentionMethod method;
  float relu_scale = 1.0f;
  float relu_bias = 1.0f;
};

size_t attention_scratch_floats(const AttentionMethod& method, size_t n);

void attention_transform(const RowTransform& t, const float* s, float* p, size_t n, const uint8_t* mask,
                         float* scratch);

}  // namespace tessera::ops
