// The Vulkan compute backend. Lazy: nothing Vulkan happens before these are called.
//
//   make_vulkan_backend(weights, options)  -> kUnavailable (with the reason) when the build has no
//                                             Vulkan or no usable device exists; the API then falls
//                                             back to the CPU for BackendKind::kAuto.
//   list_vulkan_devices()                  -> "0: NVIDIA H100 (discrete GPU, subgroup 32)", ...
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/model_weights.h"
#include "tessera/status.h"
#include "tessera/tessera.h"

namespace tessera {

Result<std::unique_ptr<Backend>> make_vulkan_backend(std::shared_ptr<const ModelWeights> weights,
                                                     const LoadOptions& options);
// list_vulkan_devices() is declared in the public tessera/tessera.h.

}  // namespace tessera
