// The float32 CPU runtime: the reference every other backend is checked against.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "model/model_weights.h"
#include "tessera/tessera.h"

namespace tessera {

Result<std::unique_ptr<Backend>> make_cpu_backend(std::shared_ptr<const ModelWeights> weights,
                                                  const LoadOptions& options);

}  // namespace tessera
