#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "model/model_weights.h"
#include "tessera/tessera.h"

namespace tessera {

struct BackendChoice {
  std::unique_ptr<Backend> backend;
  std::string fallback_reason;  // kAuto: why Vulkan was not used
};

// kAuto tries Vulkan, then the float CPU runtime; explicit kinds fail with their own error.
Result<BackendChoice> make_backend(std::shared_ptr<const ModelWeights> weights, const LoadOptions& options);

}  // namespace tessera
