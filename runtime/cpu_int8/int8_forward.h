// The fixed-point core of the int8 backend: one token through the integer-only model, with the
// sequence state (int8_state.h) in a caller-supplied arena. No floating point, no allocation, no exceptions: this
// file and ops/int8/ are what the Cortex-M4 soft-float build checks (tests/cross/).
#pragma once

#include <stddef.h>
#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "cpu_int8/int8_model.h"
#include "cpu_int8/int8_state.h"

namespace tessera::int8 {

// Feeds one token (0 ≤ token < V; s->position < s->capacity: the caller checks both). When
// `logits` is non-null it receives V int32 logits (real = s_logit · logit).
void int8_forward_token(const Int8Model& m, Int8State* s, int32_t token, int32_t* logits);

}  // namespace tessera::int8
