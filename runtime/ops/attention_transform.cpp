// The per-row dispatch over AttentionKind; each transform lives in its own file.
#include "ops/attention_transform.h"

#include "ops/entmax15.h"
#include "ops/entmax43.h"
#include "ops/entmax_alpha.h"
#include "ops/norm_relu.h"
#include "ops/relumax.h"
#include "ops/softmax.h"
#include "ops/sparsemax.h"
#include "ops/topk.h"

namespace tessera::ops {

size_t attention_scratch_floats(const AttentionMethod& method, size_t n) {
  switch (method.kind) {
    case AttentionKind::kSoftmax:
    case AttentionKind::kReluMax:
    case AttentionKind::kNormRelu: return 0;
    case AttentionKind::kSparsemax:
    case AttentionKind::kEntmax15:
    case AttentionKind::kEntmax43:
    case AttentionKind::kEntmaxAlpha:
    case AttentionKind::kTopKSoftmax:
    case AttentionKind::kTopKUniform: return n;  // candidate / selection buffer
  }
  return n;
}

void attention_transform(const RowTransform& t, const float* s, float* p, size_t n, const uint8_t* mask,
                         float* scratch) {
  switch (t.method.kind) {
    case AttentionKind::kSoftmax: return softmax_row(s, p, n, mask);
    case AttentionKind::kSparsemax: return sparsemax_row(s, p, n, mask, scratch);
    case AttentionKind::kEntmax15: return entmax15_row(s, p, n, mask, scratch);
    case AttentionKind::kEntmax43: return entmax43_row(s, p, n, mask, scratch);
    case AttentionKind::kEntmaxAlpha: return entmax_alpha_row(t.method.alpha, s, p, n, mask, scratch);
    case AttentionKind::kReluMax: return relumax_row(s, p, n, mask, t.relu_scale, t.relu_bias);
    case AttentionKind::kNormRelu: return norm_relu_row(s, p, n, mask, t.relu_scale, t.relu_bias);
    case AttentionKind::kTopKSoftmax: return topk_softmax_row(t.method.top_k, s, p, n, mask, scratch);
    case AttentionKind::kTopKUniform: return topk_uniform_row(t.method.top_k, s, p, n, mask, scratch);
  }
}

}  // namespace tessera::ops
