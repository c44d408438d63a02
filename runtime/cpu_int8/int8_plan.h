// Builds the integer-only Int8Model from a quantized model's tensors (host side, at load): checks
// every tensor (presence, dtype, shape, finite positive scales, |q| ≤ 127) and derives the integer
// requantisation parameters from the stored float scales. Floats are used here, never per token.
// The GGUF layout it reads is the int8 model description (int8_format.h).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "cpu_int8/int8_format.h"
#include "cpu_int8/int8_model.h"
#include "model/hparams.h"
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

using TensorLookup = std::function<const Tensor*(const std::string& name)>;

// `source` names the model in error messages (a file path). Fails with kInvalidArgument for a
// float-only model, kNotFound for missing tensors, kCorruptFile for inconsistent ones, kUnsupported
// for models the fixed-point core cannot run (post-LN, attention methods without a fixed kernel).
// `superseded` (optional) is told of each file tensor the plan replaces by its own copy (the
// re-laid-out persistent memories) as soon as the copy exists: the hot path never reads the original,
// so the loader may drop its pages (resident memory would hold both otherwise). `kernels` is the table the
// model runs (chosen once by the caller); the memories are re-laid out for its layout-dependent kernels.
using SupersededFn = std::function<void(const void* data, size_t bytes)>;
Result<std::unique_ptr<Int8Plan>> build_int8_plan(const HParams& hp, const TensorLookup& find,
                                                  const std::string& source, const ops::int8::Int8Kernels& kernels,
                                                  const SupersededFn& superseded = {});

}  // namespace tessera::int8
