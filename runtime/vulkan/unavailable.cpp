// Built instead of the Vulkan backend when TESSERA_ENABLE_VULKAN is OFF (no headers / glslc).
#include "vulkan/vulkan_backend.h"

namespace tessera {

Result<std::unique_ptr<Backend>> make_vulkan_backend(std::shared_ptr<const ModelWeights>, const LoadOptions&) {
  return unavailable("this build of Tessera has no Vulkan backend (configured with TESSERA_ENABLE_VULKAN=OFF)");
}

Result<std::vector<std::string>> list_vulkan_devices() {
  return unavailable("this build of Tessera has no Vulkan backend (configured with TESSERA_ENABLE_VULKAN=OFF)");
}

}  // namespace tessera
