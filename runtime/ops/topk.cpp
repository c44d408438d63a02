#include "ops/topk.h"

#include <algorithm>
#include <functional>

#include "ops/row_common.h"

namespace tessera::ops {
namespace {

// Marks the selection in p (1 = selected, 0 = not) and returns K'. Selection: every usable score
// above the K'-th largest value v, then the lowest-index usable scores equal to v until K' are taken.
size_t select_top_k(int k, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  size_t usable = 0;
  for (size_t i = 0; i < n; ++i) {
    scratch[usable] = s[i];
    usable += key_usable(mask, i, s[i]);
  }
  size_t kk = std::min(static_cast<size_t>(k), usable);
  if (kk == 0) {
    fill_zero(p, n);
    return 0;
  }
  std::nth_element(scratch, scratch + (kk - 1), scratch + usable, std::greater<float>());
  float v = scratch[kk - 1];
  size_t above = 0;
  for (size_t i = 0; i < usable; ++i) above += scratch[i] > v;
  size_t ties_left = kk - above;
  for (size_t i = 0; i < n; ++i) {
    bool use = key_usable(mask, i, s[i]);
    bool take = use && (s[i] > v || (s[i] == v && ties_left > 0));
    if (use && s[i] == v && ties_left > 0) --ties_left;
    p[i] = take ? 1.0f : 0.0f;
  }
  return kk;
}

}  // namespace

void topk_uniform_row(int k, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  size_t kk = select_top_k(k, s, p, n, mask, scratch);
  if (kk == 0) return;
  float w = 1.0f / static_cast<float>(kk);
  for (size_t i = 0; i < n; ++i) p[i] *= w;
}

void topk_softmax_row(int k, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  size_t kk = select_top_k(k, s, p, n, mask, scratch);
  if (kk == 0) return;
  float m = -kInf;
  for (size_t i = 0; i < n; ++i)
    if (p[i] != 0.0f && s[i] > m) m = s[i];
  if (m == kInf || m == -kInf) {  // uniform on the selected keys equal to m
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) count += p[i] != 0.0f && s[i] == m;
    for (size_t i = 0; i < n; ++i)
      p[i] = (p[i] != 0.0f && s[i] == m) ? 1.0f / static_cast<float>(count) : 0.0f;
    return;
  }
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    float w = p[i] != 0.0f ? exp_nonpositive(s[i] - m) : 0.0f;
    p[i] = w;
    total += w;
  }
  float inv = static_cast<float>(1.0 / total);
  for (size_t i = 0; i < n; ++i) p[i] *= inv;
}

}  // namespace tessera::ops
