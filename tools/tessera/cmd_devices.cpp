// tessera devices [--format text|json]: the Vulkan devices Tessera can see (index, name, type, subgroup size).
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "command.h"
#include "tessera/tessera.h"

namespace tessera::cli {
namespace {

// "No device" is a normal answer, not an error: the CPU backends are always there.
int run_devices(const std::string& format) {
  auto devices = list_vulkan_devices();
  if (format == "json") {
    nlohmann::json out = {{"vulkan_devices", devices.ok() ? devices.value() : std::vector<std::string>{}},
                          {"cpu_backends", {"cpu", "cpu-int8"}}};
    if (!devices.ok()) out["vulkan_unavailable"] = devices.status().message();
    std::cout << out.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  if (!devices.ok()) {
    std::cout << "no Vulkan devices: " << devices.status().message() << "\nthe CPU backends are available\n";
    return kExitOk;
  }
  if (devices->empty()) std::cout << "no Vulkan devices\n";
  for (const std::string& d : devices.value()) std::cout << d << "\n";
  return kExitOk;
}

Registration reg(
    "devices", "list the Vulkan devices (select one with --vulkan-device / --vulkan-device-name)",
    [](CLI::App& sub) -> Action {
      auto format = std::make_shared<std::string>("text");
      add_format_option(sub, *format);
      return [format] { return run_devices(*format); };
    },
    60);

}  // namespace
}  // namespace tessera::cli
