// The Vulkan loader (libvulkan.so.1 / vulkan-1.dll) is opened at run time through volk, on the first
// Vulkan call, so that nothing linked against Tessera needs it to start: without it the Vulkan backend
// is simply unavailable.
#pragma once

#include <volk.h>

#include "tessera/status.h"

namespace tessera::vk {

// Opens the loader once per process; kUnavailable when the system has none.
Status open_vulkan_loader();

// Resolves the instance- and device-level entry points through `instance` (once per process: the
// loader's trampolines dispatch on the handle, so they serve every instance and device).
void load_instance_functions(VkInstance instance);

}  // namespace tessera::vk
