#include "cpu/attention_row.h"

#include <algorithm>

namespace tessera::cpu {

ops::RowTransform row_transform_for(const AttentionMethod& method) {
  ops::RowTransform t;
  t.method = method;
  t.relu_scale = 1.0f;
  t.relu_bias = method.kind == AttentionKind::kReluMax ? float(method.relumax_b) : 0.0f;
  return t;
}

void make_scores(const AttentionMethod& m, double beta2, const double* cos, int64_t n, float* scores) {
  if (n <= 0) return;
  if (m.kind == AttentionKind::kNormRelu) {
    if (m.form == SeedForm::kEft) {
      for (int64_t j = 0; j < n; ++j) scores[j] = float(cos[j]);
    } else {
      const double a = 2.0 * beta2 * beta2, c = 1.0 - 2.0 * beta2;
      for (int64_t j = 0; j < n; ++j) scores[j] = float(a * cos[j] + c);
    }
    return;
  }
  const double mx = *std::max_element(cos, cos + n);
  double scale = beta2;
  if (m.kind == AttentionKind::kReluMax && m.form == SeedForm::kRegular) scale = beta2 * beta2;
  for (int64_t j = 0; j < n; ++j) scores[j] = float(scale * (cos[j] - mx));
}

}  // namespace tessera::cpu
