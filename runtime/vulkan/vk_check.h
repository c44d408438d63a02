// VkResult -> Status, and the one macro every Vulkan call site uses.
#pragma once

#include <volk.h>

#include <string>

#include "tessera/status.h"

namespace tessera::vk {

const char* vk_result_name(VkResult r);

inline Status vk_status(VkResult r, const std::string& what) {
  if (r == VK_SUCCESS) return Status::ok_status();
  StatusCode code = (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) ? StatusCode::kOutOfRange
                    : (r == VK_ERROR_INITIALIZATION_FAILED || r == VK_ERROR_INCOMPATIBLE_DRIVER)
                        ? StatusCode::kUnavailable
                        : StatusCode::kInternal;
  return Status(code, "vulkan: " + what + " failed with " + vk_result_name(r));
}

}  // namespace tessera::vk

#define TESSERA_VK(expr, what) TESSERA_RETURN_IF_ERROR(::tessera::vk::vk_status((expr), (what)))
