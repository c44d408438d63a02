// Gating of optional-extension shader variants: the generated shader_features.h is
// consistent with the compiled kernels, and a variant is picked only when the build has it and the
// device reports its feature. (Whether the header matches glslc itself is the CTest test
// vulkan_glsl_feature_probes, which re-runs the probes.)
#include <gtest/gtest.h>

#include "shader_features.h"
#include "vk_required.h"
#include "vulkan/instance.h"
#include "vulkan/kernels.h"
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
        EXPECT_EQ(variant_selectable(built, glslc, device), built && glslc && device) << built << glslc << device;
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
  int gated = 0;
  for (uint32_t i = 0; i < kKernelCount; ++i) {
    const KernelId id = KernelId(i);
    const KernelContract& k = kernel_contract(id);
    if (k.feature.empty()) {
      EXPECT_TRUE(k.built) << k.name << ": an ungated kernel is always built";
      // A kernel that needs no optional feature is no variant: never picked over the portable one.
      EXPECT_EQ(pick_kernel_variant(KernelId::kMatvec, id, all_features()), KernelId::kMatvec) << k.name;
      continue;
    }
    ++gated;
    bool accepted = false, known = false;
    for (const auto& p : kGlslFeatureProbes)
      if (p.name == k.feature) known = true, accepted = p.glslc_accepts;
    EXPECT_TRUE(known) << k.name;
    EXPECT_EQ(k.built, accepted) << k.name;
    EXPECT_EQ(!kernel_spirv(id, true).empty(), k.built) << k.name << ": registry and contract disagree";
    // With every device feature present the variant runs iff it was built; never without the device.
    EXPECT_EQ(pick_kernel_variant(KernelId::kMatmul, id, all_features()), k.built ? id : KernelId::kMatmul);
    EXPECT_EQ(pick_kernel_variant(KernelId::kMatmul, id, DeviceShaderFeatures{}), KernelId::kMatmul);
  }
  EXPECT_GE(gated, 1) << "matmul_coopmat_nv is gated on cooperative_matrix_nv";
}

TEST(VulkanShaderVariants, RealDevicesReportTheirFeatures) {
  auto instance = Instance::create(false);
  if (!instance.ok()) TESSERA_VK_NO_DEVICE(instance.status().to_string());
  auto devices = enumerate_devices((*instance)->handle());
  ASSERT_TRUE(devices.ok());
  if (devices->empty()) TESSERA_VK_NO_DEVICE("no Vulkan device");
  for (const auto& d : *devices) {
    if (d.subgroup_ops) {
      EXPECT_TRUE(d.shader_features.subgroup_arithmetic) << d.name << ": the subgroup flavour needs it";
    }
  }
}

}  // namespace
}  // namespace tessera::vk
