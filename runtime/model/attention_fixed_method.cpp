#include "model/attention_fixed_method.h"

#include <cmath>

namespace tessera::ops {

Result<fixed::FixedRowTransform> fixed_transform_for(const AttentionMethod& method) {
  using fixed::FixedKind;
  fixed::FixedRowTransform t;
  switch (method.kind) {
    case AttentionKind::kSoftmax:
      return unsupported(
          "attention method 'softmax' is not an ops/fixed row transform: the integer softmax is "
          "ops/int8 softmax_fixed_q23");
    case AttentionKind::kSparsemax: t.kind = FixedKind::kSparsemax; return t;
    case AttentionKind::kEntmax15: t.kind = FixedKind::kEntmax15; return t;
    case AttentionKind::kEntmax43: t.kind = FixedKind::kEntmax43; return t;
    case AttentionKind::kReluMax: {
      double b = std::ldexp(method.relumax_b, 20);
      if (!(b >= 1.0 && b < 2147483647.0))
        return invalid_argument("attention method relumax: margin b = " + std::to_string(method.relumax_b) +
                                " is outside the fixed-point range (2^-20, 2048)");
      t.kind = FixedKind::kReluMax;
      t.relu_bias_q20 = static_cast<int32_t>(std::lround(b));
      return t;
    }
    case AttentionKind::kTopKSoftmax:
    case AttentionKind::kTopKUniform:
      if (method.top_k < 1) return invalid_argument("attention method " + method.name() + ": K must be >= 1");
      t.kind = method.kind == AttentionKind::kTopKSoftmax ? FixedKind::kTopKSoftmax : FixedKind::kTopKUniform;
      t.top_k = method.top_k;
      return t;
    case AttentionKind::kEntmaxAlpha:
    case AttentionKind::kNormRelu: break;
  }
  return unsupported("attention method '" + method.name() +
                     "' has no exact integer-only kernel (fixed point supports sparsemax, "
                     "entmax15, entmax43, relumax, top<K>_softmax, top<K>_uniform)");
}

}  // namespace tessera::ops
