// Top-K transforms over the K' = min(K, #usable keys) largest usable scores (row_common.h conventions):
// - top-K softmax: softmax over those K', 0 elsewhere;
// - top-K uniform: 1/K' on those K', 0 elsewhere.
// Ties at the K-th largest value are broken towards the LOWEST indices (deterministic; torch.topk
// leaves the choice unspecified). If the selected maximum is +inf, softmax is uniform on the selected
// +inf keys; if every selected score is -inf, it is uniform on the selection (equal scores).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::ops {

// scratch: n floats. k >= 1 (validated at load).
void topk_softmax_row(int k, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch);
void topk_uniform_row(int k, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch);

}  // namespace tessera::ops
