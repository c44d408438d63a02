// The fixed-point core of the int8 backend: one token through the integer-only model, with the
// sequence state in a caller-supplied arena. No floating point, no allocation, no exceptions: this
// file and ops/int8/ are what the Cortex-M4 soft-float build checks (tests/cross/).
#pragma once

#include <stddef.h>
#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "cpu_int8/int8_model.h"

namespace tessera::int8 {

// Views into the arena; int8_state_bind fills them.
struct Int8State {
  int64_t capacity = 0;  // positions the caches hold
  int64_t position = 0;  // tokens fed so far
  int32_t* x = nullptr;        // [C] residual stream (scale s_x)
  int32_t* u = nullptr;        // [C] requantised projections
  int32_t* w_cur = nullptr;    // [C]
  int32_t* acc = nullptr;      // [max(C, V)] matvec accumulators
  int8_t* q8 = nullptr;        // [C] int8 activations (the high plane of an int16 site)
  int8_t* q8_lo = nullptr;     // [C] low plane of an int16 activation site
  int16_t* q16 = nullptr;      // [C] int16 activation site before its split
  int64_t* acc64 = nullptr;    // [max(C, V)] wide matvec accumulators
  int32_t* scores = nullptr;   // [capacity] contextual scores of one head
  int32_t* probs = nullptr;    // [capacity] Q23
  // Persistent-memory scratch, one per head when Int8Model::parallel_for is set (else one: [1][...]).
  int32_t* pmem_scores = nullptr;  // [H][N] persistent-memory scores
  int32_t* pmem_probs = nullptr;   // [H][N] Q23
  int8_t* pmem_split = nullptr;    // [H][2][d] the query's high and low bytes
  int64_t* o_acc = nullptr;    // [head_dim]
  int32_t* r_acc = nullptr;    // [C]
  int64_t* r_acc64 = nullptr;  // [C] Σ p'·M_v for an int16 M_v
  int64_t* pmem_dot64 = nullptr;   // [H][N] q·M_k for an int16 M_k (per head as pmem_scores)
  int32_t* attn_scratch = nullptr;  // non-softmax transforms' scratch
  int32_t* logits = nullptr;   // [V] int32 logits of the last position (real = s_logit · logit)
  // Per layer (strided by layer): leaky states, previous w, key and value caches.
  int32_t* key_state = nullptr;   // [L][C]
  int32_t* pmem_state = nullptr;  // [L][C]
  int32_t* w_prev = nullptr;      // [L][C]
  int16_t* key_cache = nullptr;   // [L][capacity][C] unit keys, Q15
  int16_t* value_cache = nullptr; // [L][capacity][C] unit values, Q15
};

// Bytes of arena a sequence of `capacity` positions needs (64-byte aligned sub-arrays).
size_t int8_state_bytes(const Int8Model& m, int64_t capacity);
// Lays the state out in `arena` (at least int8_state_bytes, 64-byte aligned) and resets it.
void int8_state_bind(const Int8Model& m, int64_t capacity, void* arena, Int8State* s);
void int8_state_reset(const Int8Model& m, Int8State* s);

// Feeds one token (0 ≤ token < V; s->position < s->capacity: the caller checks both). When
// `logits` is non-null it receives V int32 logits (real = s_logit · logit).
void int8_forward_token(const Int8Model& m, Int8State* s, int32_t token, int32_t* logits);

}  // namespace tessera::int8
