// Integer-only attention transforms for the int8 CPU runtime (and microcontrollers): no float, no libm,
// no heap, no exceptions; freestanding (tests/cross/check_fixed_point_core.sh builds this folder for
// Cortex-M4 soft-float and rejects any float helper).
//
// Formats (stated once; docs/numerics.md "Attention transforms" has the error bounds):
// - Scores: int32 q_i, real score s_i = q_i · S with S = multiplier · 2^(shift - 31),
//   multiplier in [2^30, 2^31) (or 0: all scores equal), shift in [-32, 32]. This is the TFLite/gemmlowp
//   "quantised multiplier" form of a positive real scale; for the contextual memory S is the scale of
//   the int32 β²·cos accumulator (β²·scale_q·scale_k), for the persistent memory that of q·M_k.
// - Probabilities: int32 p_i in Q1.15, i.e. 1.0 = kFixedProbOne = 32768, p_i ∈ [0, 32768],
//   Σ p_i == 32768 exactly for every row with a usable key (largest-remainder style cumulative
//   rounding); a row with every key masked is all zeros.
// - Internal: score differences max s - s_i in Q5.26 for top-K softmax (the input of ops/int8's exp_neg_q30;
//   differences ≤ -32 give weight 0), entmax's centred (max s - s_i)/r in Q11.20, the threshold in Q.31.
//
// Transforms: sparsemax (r = 1), entmax α = 1.5 (r = 2), α = 4/3 (r = 3), ReLUmax, top-K
// softmax, uniform top-K. General α and norm_relu are refused (kUnsupported): no exact integer form.
// Full softmax is ops/int8's softmax_fixed_q23 (ops/int8/softmax_fixed.h), which the int8 runtime calls.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace tessera::ops::fixed {

inline constexpr int32_t kFixedProbOne = 1 << 15;  // Q1.15

struct ScoreScale {
  int32_t multiplier = 1 << 30;  // Q0.31, in [2^30, 2^31) or 0
  int32_t shift = 1;             // S = multiplier · 2^(shift - 31); the default is S = 1
};

enum class FixedKind : int32_t {
  kSparsemax,
  kEntmax15,
  kEntmax43,
  kReluMax,
  kTopKSoftmax,
  kTopKUniform,
};

enum class FixedStatus : int32_t {
  kOk = 0,
  kInvalidArgument,  // bad scale, K < 1, n == 0, missing scratch
  kUnsupported,      // a transform with no exact integer form (general α, norm_relu)
};

struct FixedRowTransform {
  FixedKind kind = FixedKind::kSparsemax;
  int32_t top_k = 0;  // kTopK* only, >= 1
  // kReluMax: p ∝ relu(bias - (max s - s_i)) with bias in Q11.20 (the seed's b = 1 → 1 << 20);
  // fold the seed's β² slope into the score scale.
  int32_t relu_bias_q20 = 1 << 20;
};

// int32 words of scratch a row of n keys needs (0 for ReLUmax, 2n for entmax, n for top-K).
size_t fixed_scratch_words(FixedKind kind, size_t n);

// One row: scores q[0..n) with scale → p[0..n) in Q1.15. mask: optional, n bytes, nonzero = usable.
// Validation is cheap (O(1)) and returns kInvalidArgument without touching p.
FixedStatus attention_transform_fixed(const FixedRowTransform& t, const int32_t* q, ScoreScale scale, int32_t* p,
                                      size_t n, const uint8_t* mask, int32_t* scratch);

// The individual transforms (same contracts; scratch as fixed_scratch_words).
void entmax_fixed(int r, const int32_t* q, ScoreScale scale, int32_t* p, size_t n, const uint8_t* mask,
                  int32_t* scratch);  // r = 1, 2, 3; scratch 2n words
void relumax_fixed(const int32_t* q, ScoreScale scale, int32_t bias_q20, int32_t* p, size_t n, const uint8_t* mask);
void topk_fixed(bool softmax, int32_t k, const int32_t* q, ScoreScale scale, int32_t* p, size_t n, const uint8_t* mask,
                int32_t* scratch);

}  // namespace tessera::ops::fixed
