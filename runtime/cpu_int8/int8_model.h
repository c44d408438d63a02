// The integer-only model the int8 backend runs: plain pointers to int8 weights and integer
// requantisation parameters, no floats, no containers. It is what the fixed-point core
// (int8_forward.cpp) consumes and what builds for Cortex-M4 with -mfloat-abi=soft.
// int8_plan.h builds it (on the host, at load) from a quantized GGUF's tensors.
#pragma once

#include <stddef.h>
#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "ops/fixed/attention_fixed.h"
#include "ops/int8/fixed_point.h"
#include "ops/int8/int8_kernels.h"

namespace tessera::int8 {

using ops::int8::QuantizedMultiplier;

// Scores (β²·cos, and the persistent memory's q·M_k) are int32 in Q16: |score| < 2^15 = 32768 covers
// β² ≤ e^10 ≈ 22026 with unit keys; resolution 2^-16.
inline constexpr int kScoreFracBits = 16;

// A matrix is int8, or int16 ("wide", chosen per tensor by `tessera quantize --precision`) stored as
// two int8 planes W = 255·weight + weight_lo (ops/int8/matvec_wide.h); its accumulators are then int64.
struct Int8Matrix {
  const int8_t* weight = nullptr;                // rows × cols, per-row symmetric int8 (or the high plane)
  const int8_t* weight_lo = nullptr;             // low plane of an int16 matrix; null for int8
  const QuantizedMultiplier* requant = nullptr;  // per row: s_w[r]·s_in / s_out
  const int32_t* bias = nullptr;                 // per row, at the accumulator scale s_w[r]·s_in; may be null
  int64_t rows = 0, cols = 0;
};

struct Int8Layer {
  // Contextual memory.
  uint64_t ln1_eps = 0;                                     // ε / s_x² in integer units
  QuantizedMultiplier ln1_inv_scale;                        // 1 / s_h1
  Int8Matrix attn_k;                                        // → int32 keys before the leaky average (scale s_u)
  Int8Matrix attn_v;                                        // → int32 w_t (scale s_w)
  Int8Matrix attn_out;                                      // → added to the residual (scale s_x)
  const int32_t* key_decay_q31 = nullptr;                   // [H] a_h
  const int32_t* key_keep_q31 = nullptr;                    // [H] 1 - a_h
  const int32_t* value_mix_q24 = nullptr;                   // [H] c_h·2^24 (ṽ_t = (1-c) w_{t+1} + c w_t)
  const int32_t* value_keep_q24 = nullptr;                  // [H] 2^24 - c_h·2^24
  const QuantizedMultiplier* score_multiplier = nullptr;    // [H] β_h²·2^(16-30): Q30 cos → Q16 score
  const ops::fixed::ScoreScale* transform_scale = nullptr;  // [H] real input of the non-softmax transforms
  QuantizedMultiplier o_to_int8;                            // Q30 attention output → int8 (int16 when o_wide) at s_o
  // int16 activation sites (LN1 output, attention output, LN2 output, persistent-memory output):
  // their values are int16 in [-32512, 32512] and reach the next matrix as two int8 planes.
  bool h1_wide = false, o_wide = false, h2_wide = false, r_wide = false;
  // Persistent memory (absent when attn_only).
  bool has_pmem = false;
  uint64_t ln2_eps = 0;
  QuantizedMultiplier ln2_inv_scale;
  Int8Matrix pmem_k, pmem_out;
  const int32_t* pmem_decay_q31 = nullptr;
  const int32_t* pmem_keep_q31 = nullptr;
  const int8_t* mem_k = nullptr;     // [P, H, N, d] (β'² folded in)
  const int8_t* mem_v = nullptr;     // [P, H, N, d]
  const int8_t* mem_k_lo = nullptr;  // low planes of int16 M_k / M_v (null: int8)
  const int32_t* mem_k_lo_rowsum = nullptr;
  const int8_t* mem_v_lo = nullptr;
  // M_v / its low plane in slot quads (ops/int8/axpy_quads.h), set at load when the kernels have axpy_quads.
  const int8_t* mem_v_quads = nullptr;
  const int8_t* mem_v_lo_quads = nullptr;
  // M_k / its low plane in column quads (ops/int8/matvec_q16_quads.h), set when the kernels have matvec_q16_quads.
  const int8_t* mem_k_quads = nullptr;
  const int8_t* mem_k_lo_quads = nullptr;
  const int32_t* mem_k_rowsum = nullptr;  // [P·H·N] Σ_i M_k[n][i] (for the split-query dot, int8_forward.cpp)
  const QuantizedMultiplier* mem_k_score = nullptr;   // [P·H·N] s_mk[n]·2^(16-15): Q15·int8 → Q16 score
  const QuantizedMultiplier* mem_v_weight = nullptr;  // [P·H·N] s_mv[n] / (P · max s_mv) (≤ 1)
  QuantizedMultiplier r_to_int8;  // Σ p·M_v (Q23 · int8) → int8 (int16 when r_wide) at s_r (includes max s_mv)
};

struct Int8Model {
  int64_t vocab_size = 0, n_embd = 0, n_head = 0, head_dim = 0, n_layer = 0;
  int64_t pmem_size = 0, pmem_count = 0;
  int32_t mask_offset = 1;
  // Contextual attention: softmax runs ops/int8 softmax_fixed_q23 (Q23 weights); every other method
  // the entmax family's integer kernels (ops/fixed, Q1.15 weights, widened to Q23).
  bool attention_softmax = true;
  ops::fixed::FixedRowTransform attention_transform;
  int64_t attention_scratch_words_per_key = 0;  // scratch = this · capacity (+ 1)
  // Unit values cached as Q7 int8 (ops/int8/value_sum_int8.h; `tessera quantize --value-cache int8`)
  // instead of Q15 int16: half the value cache, a different (coarser) numerics.
  bool value_cache_int8 = false;
  const int8_t* token_embd = nullptr;                 // [V, C]
  const int16_t* token_embd_wide = nullptr;           // [V, C] when the embedding is int16 (then token_embd is null)
  const QuantizedMultiplier* embd_requant = nullptr;  // [V] s_e[v] / s_x
  uint64_t out_eps = 0;
  QuantizedMultiplier out_inv_scale;
  bool out_wide = false;  // final LayerNorm output is an int16 site
  Int8Matrix output;      // [V, C] → int32 logits at s_logit (a per-model constant)
  const Int8Layer* layers = nullptr;
  // The kernels of one instruction set (ops/int8/int8_kernels.h), chosen once at load; every call of the
  // forward goes through them. The axpy_quads / matvec_q16_quads entries run only on memories the plan
  // re-laid out for them (Int8Layer::mem_v_quads, mem_k_quads).
  const ops::int8::Int8Kernels* kernels = &ops::int8::int8_kernels_for(ops::int8::Isa::kPortable);
  bool pmem_byte_split = false;  // q·M_k on `kernels->matvec` with the query's byte split instead (int8_forward.cpp)
  // Optional executor (the backend's thread pool): runs fn(ctx, begin, end) over disjoint ranges
  // covering [0, n) and returns when all are done. Null: everything runs on the calling thread.
  // Results never depend on it (each range writes its own outputs with the same integer math).
  // Every session of the model calls it, possibly at once: it must be thread-safe.
  using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end);
  void (*parallel_for)(void* executor, int64_t n, RangeFn fn, void* ctx) = nullptr;
  void* executor = nullptr;
};

}  // namespace tessera::int8
