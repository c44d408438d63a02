// tessera devices: the Vulkan devices Tessera can see (index, name, type, subgroup size).
#include <iostream>

#include "command.h"
#include "tessera/tessera.h"

namespace tessera::cli {
namespace {

int run_devices() {
  auto devices = list_vulkan_devices();
  if (!devices.ok()) {
    std::cout << "no Vulkan devices: " << devices.status().message() << "\nthe CPU backends are available\n";
    return 0;  // "no device" is a normal answer, not an error
  }
  if (devices->empty()) std::cout << "no Vulkan devices\n";
  for (const std::string& d : devices.value()) std::cout << d << "\n";
  return 0;
}

Registration reg("devices", "list the Vulkan devices (select one with --vulkan-device / --vulkan-device-name)",
                 [](CLI::App&) -> Action { return [] { return run_devices(); }; }, 60);

}  // namespace
}  // namespace tessera::cli
