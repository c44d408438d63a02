#include "vulkan/loader.h"

#include <mutex>

namespace tessera::vk {

Status open_vulkan_loader() {
  static std::once_flag once;
  static VkResult result = VK_ERROR_INITIALIZATION_FAILED;
  std::call_once(once, [] { result = volkInitialize(); });
  if (result != VK_SUCCESS)
    return unavailable("vulkan: no Vulkan loader on this system (libvulkan.so.1 could not be opened)");
  return Status::ok_status();
}

void load_instance_functions(VkInstance instance) {
  static std::once_flag once;
  std::call_once(once, [instance] { volkLoadInstance(instance); });
}

}  // namespace tessera::vk
