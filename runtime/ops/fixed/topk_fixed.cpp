// Fixed-point top-K: the K' = min(K, #usable) largest usable integer scores (ties to the lowest
// indices, as the float path), then the softmax over them or 1/K' each, rounded to Q1.15 with
// Σp = 1 exactly (uniform: entries differ by at most 1 LSB).
#include "ops/fixed/fixed_math.h"
#include "ops/int8/softmax_fixed.h"

namespace tessera::ops::fixed {
namespace {

// Order-preserving map of int32 to uint32.
inline uint32_t key_of(int32_t v) { return static_cast<uint32_t>(v) ^ 0x80000000u; }

// The K' largest usable keys, kept ascending in `best` (insertion; O(n) when K is small, as
// attention top-K is); returns K' and the K'-th largest key.
size_t kth_largest(int32_t k, const int32_t* q, size_t n, const uint8_t* mask, uint32_t* best, uint32_t* kth) {
  size_t kk = 0;
  const size_t cap = static_cast<size_t>(k);
  for (size_t i = 0; i < n; ++i) {
    if (!usable_key(mask, i)) continue;
    uint32_t v = key_of(q[i]);
    if (kk < cap) {  // insertion into the ascending array
      size_t j = kk++;
      while (j > 0 && best[j - 1] > v) {
        best[j] = best[j - 1];
        --j;
      }
      best[j] = v;
    } else if (v > best[0]) {  // replace the smallest, sift up
      size_t j = 0;
      while (j + 1 < kk && best[j + 1] < v) {
        best[j] = best[j + 1];
        ++j;
      }
      best[j] = v;
    }
  }
  if (kk > 0) *kth = best[0];
  return kk;
}

}  // namespace

void topk_fixed(bool softmax, int32_t k, const int32_t* q, ScoreScale scale, int32_t* p, size_t n, const uint8_t* mask,
                int32_t* scratch) {
  uint32_t kth = 0;
  size_t kk = kth_largest(k, q, n, mask, reinterpret_cast<uint32_t*>(scratch), &kth);
  if (kk == 0) {
    for (size_t i = 0; i < n; ++i) p[i] = 0;
    return;
  }
  size_t above = 0;
  int32_t qmax = INT32_MIN;
  for (size_t i = 0; i < n; ++i)
    if (usable_key(mask, i) && key_of(q[i]) > kth) ++above;
  size_t ties_left = kk - above;
  for (size_t i = 0; i < n; ++i) {  // p[i] = 1 marks the selection
    bool take = false;
    if (usable_key(mask, i)) {
      uint32_t v = key_of(q[i]);
      take = v > kth || (v == kth && ties_left > 0);
      if (v == kth && ties_left > 0) --ties_left;
    }
    p[i] = take;
    if (take && q[i] > qmax) qmax = q[i];
  }
  if (!softmax) {
    CumulativeRounder round(kk);
    for (size_t i = 0; i < n; ++i) p[i] = round.next(static_cast<uint32_t>(p[i]));
    return;
  }
  // Softmax over the selection: e^{-d} in Q30 by ops/int8's exp_neg_q30 (the one integer exp: the full softmax's),
  // d ≥ 32 cut to weight 0 (invisible in Q1.15).
  const int shift = weight_shift(kk, 30);
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == 0) continue;
    uint32_t diff = static_cast<uint32_t>(static_cast<int64_t>(qmax) - q[i]);
    uint32_t d = scaled_difference(diff, scale, 26, 1, 32u << 26);
    p[i] = d >= (32u << 26) ? 0 : (ops::int8::exp_neg_q30(-static_cast<int64_t>(d), 26) >> shift);
    total += static_cast<uint32_t>(p[i]);
  }
  CumulativeRounder round(total);
  for (size_t i = 0; i < n; ++i) p[i] = round.next(static_cast<uint32_t>(p[i]));
}

}  // namespace tessera::ops::fixed
