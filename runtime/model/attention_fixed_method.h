// Bridge from the model's AttentionMethod (model layer) to the freestanding fixed-point dispatch
// (ops/fixed/attention_fixed.h): validate once at load, then call attention_transform_fixed per row.
#pragma once

#include "ops/fixed/attention_fixed.h"
#include "tessera/attention.h"
#include "tessera/status.h"

namespace tessera::ops {

// kUnsupported (naming the method) for transforms without an exact integer form: general α
// ("entmax:<α>") and norm_relu, and for softmax, whose integer form is ops/int8's softmax_fixed_q23.
// relumax: the margin b becomes relu_bias_q20 (b·2^20, rounded).
Result<fixed::FixedRowTransform> fixed_transform_for(const AttentionMethod& method);

}  // namespace tessera::ops
