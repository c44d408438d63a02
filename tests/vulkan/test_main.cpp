// main() of every Vulkan test binary: GoogleTest's flags, then --vulkan-profile=NAME (or
// --vulkan-profile NAME), the device-limits profile every test of the run plans under
// (tests/vulkan/CMakeLists.txt registers each binary once per profile).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "vk_test_util.h"
#include "vulkan/device_profile.h"

namespace tessera::vk::test {
namespace {
std::string g_profile = "full";
}
const std::string& test_profile() { return g_profile; }
}  // namespace tessera::vk::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string flag = "--vulkan-profile";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    if (a.rfind(flag + "=", 0) == 0) value = a.substr(flag.size() + 1);
    else if (a == flag && i + 1 < argc) value = argv[++i];
    else {
      std::fprintf(stderr, "unknown argument '%s' (expected --vulkan-profile=NAME)\n", a.c_str());
      return 2;
    }
    if (tessera::vk::find_device_profile(value) == nullptr) {
      std::fprintf(stderr, "unknown profile '%s' (expected one of %s)\n", value.c_str(),
                   tessera::vk::device_profile_names().c_str());
      return 2;
    }
    tessera::vk::test::g_profile = value;
  }
  return RUN_ALL_TESTS();
}
