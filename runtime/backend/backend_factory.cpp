#include "backend/backend_factory.h"

#include "cpu/cpu_backend.h"
#include "cpu_int8/int8_backend.h"
#include "vulkan/vulkan_backend.h"

namespace tessera {

static Result<std::unique_ptr<Backend>> make_vulkan(std::shared_ptr<const ModelWeights> weights,
                                                    const LoadOptions& options) {
  return make_vulkan_backend(std::move(weights), options);
}

static Result<std::unique_ptr<Backend>> make_int8(std::shared_ptr<const ModelWeights> weights,
                                                  const LoadOptions& options) {
  return make_int8_backend(std::move(weights), options);
}

Result<BackendChoice> make_backend(std::shared_ptr<const ModelWeights> weights, const LoadOptions& options) {
  BackendChoice choice;
  switch (options.backend) {
    case BackendKind::kCpu: {
      TESSERA_ASSIGN_OR_RETURN(choice.backend, make_cpu_backend(weights, options));
      return choice;
    }
    case BackendKind::kCpuInt8: {
      TESSERA_ASSIGN_OR_RETURN(choice.backend, make_int8(weights, options));
      return choice;
    }
    case BackendKind::kVulkan: {
      TESSERA_ASSIGN_OR_RETURN(choice.backend, make_vulkan(weights, options));
      return choice;
    }
    case BackendKind::kAuto: {
      auto vk = make_vulkan(weights, options);
      if (vk.ok()) {
        choice.backend = std::move(vk).value();
        return choice;
      }
      // A requested profile the device does not meet is an error, not a reason to fall back.
      const bool profile_asked = !options.vulkan_profile.empty() && options.vulkan_profile != "full";
      if (profile_asked && vk.status().code() != StatusCode::kUnavailable) return vk.status();
      choice.fallback_reason = vk.status().message();
      TESSERA_ASSIGN_OR_RETURN(choice.backend, make_cpu_backend(weights, options));
      return choice;
    }
  }
  return internal_error("unknown backend kind");
}

}  // namespace tessera
