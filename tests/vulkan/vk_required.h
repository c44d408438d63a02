// When the tests run in CI (the CI environment variable is set, as .ci/run does) on a machine with
// lavapipe installed, a Vulkan device must exist: a test that finds none fails instead of skipping, so
// that the Vulkan suite can never pass in CI by not running. Elsewhere (a machine without Vulkan) it skips.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tessera::vk::test {

inline bool lavapipe_installed() {
  for (const char* dir : {"/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().filename().string().rfind("lvp_icd", 0) == 0) return true;
  }
  return false;
}

inline bool vulkan_device_required() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string v(ci);
  return !v.empty() && v != "0" && v != "false" && lavapipe_installed();
}

}  // namespace tessera::vk::test

// Use where a test finds no Vulkan device: TESSERA_VK_NO_DEVICE("no device: " << why);
#define TESSERA_VK_NO_DEVICE(message)                                                              \
  do {                                                                                             \
    if (::tessera::vk::test::vulkan_device_required())                                             \
      FAIL() << "CI is set and lavapipe is installed, so a Vulkan device must exist: " << message; \
    else GTEST_SKIP() << message;                                                                  \
  } while (0)
