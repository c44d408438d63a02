// The integer-only CPU backend ("cpu-int8"): runs models written by `tessera quantize --int8`.
// Everything is validated and converted to integer parameters at load (int8_plan.h); the per-token
// path (int8_forward.h) is integer-only and allocation-free; sequence state can live in a
// caller-supplied arena (Backend::sequence_arena_bytes / new_sequence_in).
#pragma once

#include <memory>

#include "backend/backend.h"
#include "model/model_weights.h"
#include "tessera/tessera.h"

namespace tessera {

Result<std::unique_ptr<Backend>> make_int8_backend(std::shared_ptr<const ModelWeights> weights,
                                                   const LoadOptions& options);

}  // namespace tessera
