// The sequence state of the integer-only forward (int8_forward.h): views into one caller-supplied
// arena, laid out by arena_plan.h from the regions int8_state.cpp names, each with the steps of the
// forward pass during which it holds data. Scratch regions of different steps share bytes.
#pragma once

#include <stddef.h>
#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "cpu_int8/int8_model.h"

namespace tessera::int8 {

struct Int8State {
  int64_t capacity = 0;  // positions the caches hold
  int64_t position = 0;  // tokens fed so far
  // Live through the whole sequence.
  int32_t* x = nullptr;              // [C] residual stream (scale s_x)
  int32_t* logits = nullptr;         // [V] int32 logits of the last position asked for (real = s_logit · logit)
  int32_t* key_state = nullptr;      // [L][C] leaky key averages
  int32_t* pmem_state = nullptr;     // [L][C] leaky persistent-memory query averages
  int32_t* w_prev = nullptr;         // [L][C] the previous position's w
  int16_t* key_cache = nullptr;      // [L][capacity][C] unit keys, Q15
  int16_t* value_cache = nullptr;    // [L][capacity][C] unit values, Q15 (null with an int8 value cache)
  int8_t* value_cache_q7 = nullptr;  // [L][capacity][C] unit values, Q7 (Int8Model::value_cache_int8; else null)
  // An activation site (LayerNorm, attention or memory output) from its write to the projection reading it.
  int8_t* q8 = nullptr;     // [C] int8 activations (the high plane of an int16 site)
  int8_t* q8_lo = nullptr;  // [C] low plane of an int16 activation site
  int16_t* q16 = nullptr;   // [C] int16 activation site before its split
  // A projection's accumulators.
  int32_t* acc = nullptr;    // [max(C, V)] int32 (int8 × int8)
  int64_t* acc64 = nullptr;  // [max(C, V)] int64 (a wide matrix or activation)
  // The contextual memory.
  int32_t* key_proj = nullptr;      // [C] key projection, before the leaky average
  int32_t* w_cur = nullptr;         // [C] value projection w_t
  int32_t* value_mix = nullptr;     // [C] (1 - c)·w_t + c·w_{t-1}, before its unit norm
  int16_t* value_q15 = nullptr;     // [C] the unit value in Q15 before its rounding to Q7 (int8 value cache only)
  int32_t* scores = nullptr;        // [capacity] contextual scores of one head
  int32_t* probs = nullptr;         // [capacity] Q23
  int32_t* attn_scratch = nullptr;  // non-softmax transforms' scratch
  int64_t* o_acc = nullptr;         // [head_dim] Σ p·v of one head
  int32_t* o_q30 = nullptr;         // [C] attention output, Q30
  // The persistent memory; pmem_* scratch is per head when Int8Model::parallel_for is set (else one: [1][...]).
  int32_t* pmem_proj = nullptr;    // [C] query projection, before the leaky average
  int16_t* pmem_query = nullptr;   // [C] unit queries, Q15
  int32_t* pmem_scores = nullptr;  // [H][N] persistent-memory scores
  int32_t* pmem_probs = nullptr;   // [H][N] Q23
  int8_t* pmem_split = nullptr;    // [H][2][d] the query's high and low bytes
  int64_t* pmem_dot64 = nullptr;   // [H][N] q·M_k for an int16 M_k
  int32_t* r_acc = nullptr;        // [C] Σ p'·M_v (int8 M_v, or the high plane of an int16 one)
  int32_t* r_lo = nullptr;         // [C] Σ p'·M_v's low plane (int16 M_v)
  int64_t* r_acc64 = nullptr;      // [C] Σ p'·M_v for an int16 M_v
};

// Bytes of arena a sequence of `capacity` positions needs (64-byte aligned regions); 0 when the size would
// pass 2^62 bytes (a capacity or model that cannot fit any address space).
uint64_t int8_state_bytes(const Int8Model& m, int64_t capacity);
// The same sum without sharing: every region on its own bytes (what the planner saves is the difference).
uint64_t int8_state_bytes_unshared(const Int8Model& m, int64_t capacity);
// Lays the state out in `arena` (at least int8_state_bytes, 64-byte aligned) and resets it.
void int8_state_bind(const Int8Model& m, int64_t capacity, void* arena, Int8State* s);
void int8_state_reset(const Int8Model& m, Int8State* s);

}  // namespace tessera::int8
