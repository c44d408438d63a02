// Turns one query's cosines with the cached unit keys into the float scores an attention transform
// takes, folding β and the seed-form constants in double first. Why: with β² = e¹⁰ the raw scores
// β²·cos ≈ 2·10⁴ have a float ulp of 2·10⁻³; shifting by the row maximum (or applying the ReLU affine
// map) in double keeps the transform's input exact to float rounding of small numbers.
//   softmax / entmax family / top-K:  t_j = β²(cos_j − max cos)            (shift-invariant transforms)
//   relumax  regular: t_j = β⁴(cos_j − max cos), EFT: t_j = β²(cos_j − max cos); then relu(t + b)/Σ
//   norm_relu regular: t_j = 2β⁴cos_j + 1 − 2β²,  EFT: t_j = cos_j;            then relu(t)/max(Σ, 1e-6)
// The Vulkan and int8 backends follow the same definitions.
#pragma once

#include <cstdint>

#include "ops/attention_transform.h"
#include "tessera/attention.h"

namespace tessera::cpu {

// The RowTransform to apply to the scores make_scores() writes (relu parameters folded as above).
ops::RowTransform row_transform_for(const AttentionMethod& method);

// cos: n cosines (double); beta2 = β_h²; writes n float scores.
void make_scores(const AttentionMethod& method, double beta2, const double* cos, int64_t n, float* scores);

}  // namespace tessera::cpu
