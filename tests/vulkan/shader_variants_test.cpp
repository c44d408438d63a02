// Gating of optional-extension shader variants: the generated shader_features.h is
// consistent with the compiled kernels, and a variant is picked only when the build has it and the
// device reports its feature. (Whether the header matches glslc itself is the CTest test
// vulkan_glsl_feature_probes, which re-runs the probes.)
#include <gtest/gtest.h>

#include "shader_features.h"
#include "vk_required.h"
#include "vulkan/instance.h"
#include "vulkan/kernel_table.h"
#include "vulkan/shader_variants.h"

namespace tessera::vk {
namespace {

DeviceShaderFeatures all_features() {
  DeviceShaderFeatures f;
  f.integer_dot_product = f.cooperative_matrix_khr = f.cooperative_matrix_nv = true;
  f.float16_arithmetic = f.int8_arithmetic = f.subgroup_arithmetic = true;
  return f;
}

TEST(VulkanShaderVariants, SelectableOnlyWhenBuildProbeAndDeviceAgree) {
  for (int built = 0; built < 2; ++built)
    for (int glslc = 0; glslc < 2; ++glslc)
      for (int device = 0; device < 2; ++device)
        EXPECT_EQ(variant_selectable(built, glslc, device), built && glslc && device)
            << built << glslc << device;
}

TEST(VulkanShaderVariants, EveryProbeIsReportedAndKnownToTheDeviceQuery) {
  const auto all = glsl_feature_status(all_features());
  ASSERT_EQ(all.size(), std::size(kGlslFeatureProbes));
  for (const auto& f : all) {
    EXPECT_TRUE(f.device) << f.name << ": DeviceShaderFeatures::has does not know this probe";
    EXPECT_EQ(f.usable(), f.glslc) << f.name;
  }
  for (const auto& f : glsl_feature_status(DeviceShaderFeatures{})) EXPECT_FALSE(f.usable()) << f.name;
  // The one feature every shader already needs must have been accepted (the probes are sane).
  EXPECT_EQ(TESSERA_GLSL_HAS_SUBGROUP_ARITHMETIC, 1);
  std::string line = describe_glsl_features(DeviceShaderFeatures{});
  for (const auto& p : kGlslFeatureProbes) EXPECT_NE(line.find(std::string(p.name) + ": glslc"), std::string::npos);
}

TEST(VulkanShaderVariants, GatedKernelsExistExactlyWhenTheirProbePassed) {
  for (const auto& g : kGatedKernels) {
    bool accepted = false, known = false;
    for (const auto& p : kGlslFeatureProbes)
      if (p.name == g.feature) known = true, accepted = p.glslc_accepts;
    EXPECT_TRUE(known) << g.kernel;
    EXPECT_EQ(g.built, accepted) << g.kernel;
    EXPECT_EQ(!find_spirv(g.kernel).empty(), g.built) << g.kernel << ": registry and header disagree";
    // With every device feature present the variant runs iff it was built; never without the device.
    EXPECT_EQ(pick_kernel_variant("portable", g.kernel, all_features()), g.built ? g.kernel : "portable");
    EXPECT_EQ(pick_kernel_variant("portable", g.kernel, DeviceShaderFeatures{}), "portable");
  }
  // An unknown (never gated, never built) variant is never picked.
  EXPECT_EQ(pick_kernel_variant("matvec", "matvec_not_a_variant", all_features()), "matvec");
}

TEST(VulkanShaderVariants, RealDevicesReportTheirFeatures) {
  auto instance = Instance::create(false);
  if (!instance.ok()) TESSERA_VK_NO_DEVICE(instance.status().to_string());
  auto devices = enumerate_devices((*instance)->handle());
  ASSERT_TRUE(devices.ok());
  if (devices->empty()) TESSERA_VK_NO_DEVICE("no Vulkan device");
  for (const auto& d : *devices) {
    if (d.subgroup_ops) EXPECT_TRUE(d.shader_features.subgroup_arithmetic) << d.name << ": the subgroup flavour needs it";
  }
}

}  // namespace
}  // namespace tessera::vk
