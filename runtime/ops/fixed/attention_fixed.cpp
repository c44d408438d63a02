// Dispatch of the fixed-point transforms (see attention_fixed.h for formats and contracts).
#include "ops/fixed/attention_fixed.h"

namespace tessera::ops::fixed {

size_t fixed_scratch_words(FixedKind kind, size_t n) {
  switch (kind) {
    case FixedKind::kReluMax: return 0;
    case FixedKind::kSparsemax:
    case FixedKind::kEntmax15:
    case FixedKind::kEntmax43: return 2 * n;  // sorted candidates + their indices
    default: return n;
  }
}

FixedStatus attention_transform_fixed(const FixedRowTransform& t, const int32_t* q, ScoreScale scale, int32_t* p,
                                      size_t n, const uint8_t* mask, int32_t* scratch) {
  const bool scale_ok = scale.multiplier == 0 || scale.multiplier >= (1 << 30);
  if (n == 0 || q == nullptr || p == nullptr || !scale_ok || scale.shift < -32 || scale.shift > 32)
    return FixedStatus::kInvalidArgument;
  if (n > (size_t{1} << 20)) return FixedStatus::kInvalidArgument;  // 64-bit bounds of the sums
  if (fixed_scratch_words(t.kind, n) > 0 && scratch == nullptr) return FixedStatus::kInvalidArgument;
  switch (t.kind) {
    case FixedKind::kSparsemax: entmax_fixed(1, q, scale, p, n, mask, scratch); return FixedStatus::kOk;
    case FixedKind::kEntmax15: entmax_fixed(2, q, scale, p, n, mask, scratch); return FixedStatus::kOk;
    case FixedKind::kEntmax43: entmax_fixed(3, q, scale, p, n, mask, scratch); return FixedStatus::kOk;
    case FixedKind::kReluMax: relumax_fixed(q, scale, t.relu_bias_q20, p, n, mask); return FixedStatus::kOk;
    case FixedKind::kTopKSoftmax:
    case FixedKind::kTopKUniform:
      if (t.top_k < 1) return FixedStatus::kInvalidArgument;
      topk_fixed(t.kind == FixedKind::kTopKSoftmax, t.top_k, q, scale, p, n, mask, scratch);
      return FixedStatus::kOk;
  }
  return FixedStatus::kInvalidArgument;
}

}  // namespace tessera::ops::fixed
