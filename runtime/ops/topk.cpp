#include "ops/topk.h"

#include <algorithm>
#include <functional>

#include "ops/row_common.h"
#include "ops/simd8.h"

namespace tessera::ops {
namespace {

// K'-th largest usable score for small K: the K best values kept ascending in `best` (insertion),
// and blocks of 16 whose vectorised max cannot enter the list are skipped: O(n) vector work.
TESSERA_MULTIVERSION
size_t kth_largest_small_k(size_t k, const float* s, size_t n, const uint8_t* mask, float* best, float* kth) {
  size_t count = 0;
  auto offer = [&](float v) {
    if (count < k) {
      size_t j = count++;
      while (j > 0 && best[j - 1] > v) {
        best[j] = best[j - 1];
        --j;
      }
      best[j] = v;
    } else if (v > best[0]) {
      size_t j = 0;
      while (j + 1 < count && best[j + 1] < v) {
        best[j] = best[j + 1];
        ++j;
      }
      best[j] = v;
    }
  };
  const simd::v8f neg_inf = simd::splat8(-kInf);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    simd::v8f a = simd::load8(s + i), b = simd::load8(s + i + 8);
    if (mask != nullptr) {
      a = simd::mask8(mask + i) ? a : neg_inf;
      b = simd::mask8(mask + i + 8) ? b : neg_inf;
    }
    simd::v8f m = a > b ? a : b;  // NaN lanes lose
    if (count == k && !(simd::hmax8(m) > best[0])) continue;
    for (size_t j = i; j < i + 16; ++j)
      if (key_usable(mask, j, s[j])) offer(s[j]);
  }
  for (; i < n; ++i)
    if (key_usable(mask, i, s[i])) offer(s[i]);
  if (count > 0) *kth = best[0];
  return count;
}

TESSERA_MULTIVERSION
void mark_above(const float* s, float* p, size_t n, const uint8_t* mask, float v) {
  for (size_t i = 0; i < n; ++i) p[i] = ((mask == nullptr || mask[i] != 0) && s[i] > v) ? 1.0f : 0.0f;
}

// Marks the selection in p (1 = selected, 0 = not) and returns K'. Selection: every usable score
// above the K'-th largest value v, then the lowest-index usable scores equal to v until K' are taken.
size_t select_top_k(int k, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  size_t kk = 0;
  float v = 0.0f;
  if (k <= 64) {
    kk = kth_largest_small_k(static_cast<size_t>(k), s, n, mask, scratch, &v);
  } else {
    size_t usable = 0;
    for (size_t i = 0; i < n; ++i) {
      scratch[usable] = s[i];
      usable += key_usable(mask, i, s[i]);
    }
    kk = std::min(static_cast<size_t>(k), usable);
    if (kk > 0) {
      std::nth_element(scratch, scratch + (kk - 1), scratch + usable, std::greater<float>());
      v = scratch[kk - 1];
    }
  }
  if (kk == 0) {
    fill_zero(p, n);
    return 0;
  }
  mark_above(s, p, n, mask, v);  // p = 1 above v (vectorised)
  size_t ties_left = kk - static_cast<size_t>(sum_row(p, n) + 0.5);
  for (size_t i = 0; i < n && ties_left > 0; ++i)  // ties at v: lowest indices first
    if (key_usable(mask, i, s[i]) && s[i] == v) {
      p[i] = 1.0f;
      --ties_left;
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
  float m = usable_row_max(s, n, mask);  // the top-1 key is always selected
  if (m == kInf || m == -kInf) {         // uniform on the selected keys equal to m
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) count += p[i] != 0.0f && s[i] == m;
    for (size_t i = 0; i < n; ++i) p[i] = (p[i] != 0.0f && s[i] == m) ? 1.0f / static_cast<float>(count) : 0.0f;
    return;
  }
  double total = 0.0;
  for (size_t i = 0; i < n; ++i)  // exp only on the K' selected keys
    if (p[i] != 0.0f) total += p[i] = exp_nonpositive(s[i] - m);
  scale_row(p, n, static_cast<float>(1.0 / total));
}

}  // namespace tessera::ops
