// Builds the integer-only Int8Model from a quantized model's validated view (host side, at load). The view
// (model/model_weights.h) has checked every canonical tensor's presence, dtype and shape and the per-head
// values; the plan checks what only the int8 core needs: an int8 file, the activation tensors of the int8
// model description (int8_format.h), the values (finite positive scales, |q| ≤ 127, folded norms) and the
// ranges of its fixed-point formats, and derives the integer requantisation parameters from the stored
// float scales. Floats are used here, never per token.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "cpu_int8/int8_format.h"
#include "cpu_int8/int8_model.h"
#include "model/model_weights.h"
#include "tessera/status.h"

namespace tessera::int8 {

// Real multiplier m > 0 → (M ∈ [2^30, 2^31), shift) with m ≈ M·2^(shift-31). m == 0 → {0, 0}.
QuantizedMultiplier quantize_multiplier(double m);

struct Int8Plan {
  Int8Model model;
  double logit_scale = 0;  // s_logit: real logit = s_logit · int32 logit
  // Owned storage the model points into (the kernel table is static) (deque: element addresses never move).
  std::vector<Int8Layer> layers;
  std::deque<std::vector<QuantizedMultiplier>> multipliers;
  std::deque<std::vector<int32_t>> integers;
  std::deque<std::vector<int8_t>> planes;  // int8 planes of int16 tensors (ops/int8/matvec_wide.h)
  std::deque<std::vector<ops::fixed::ScoreScale>> score_scales;

  std::shared_ptr<void> executor_owner;  // the thread pool model.executor points to (threads > 1)
};

// Errors name the model's file (weights.file().name()). Fails with kInvalidArgument for a model that is
// not int8 (a float, f16 or weights-only file), kNotFound for missing int8 tensors, kCorruptFile for
// inconsistent ones, kUnsupported for models the fixed-point core cannot run (post-LN, attention methods
// without a fixed kernel). The plan points into the view's tensors: keep `weights` alive while it runs.
// `superseded` (optional) is told of each file tensor the plan replaces by its own copy (the re-laid-out
// persistent memories) as soon as the copy exists: the hot path never reads the original, so the loader may
// drop its pages (resident memory would hold both otherwise). `kernels` is the table the model runs (chosen
// once by the caller); the memories are re-laid out for its layout-dependent kernels.
using SupersededFn = std::function<void(const void* data, size_t bytes)>;
Result<std::unique_ptr<Int8Plan>> build_int8_plan(const ModelWeights& weights, const ops::int8::Int8Kernels& kernels,
                                                  const SupersededFn& superseded = {});

}  // namespace tessera::int8
