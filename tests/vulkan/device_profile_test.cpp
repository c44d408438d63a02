// Device-limits profiles: the numbers each profile plans with, the refusal of a device that does not
// meet one (naming the limit), and a real context under the run's profile (--vulkan-profile) planning
// within it.
#include <gtest/gtest.h>

#include "vk_test_util.h"
#include "vulkan/device_profile.h"
#include "vulkan/vulkan_backend.h"

namespace tessera::vk {
namespace {

// A generous desktop-class device (every profile's requirements met).
PhysicalDeviceInfo big_device() {
  PhysicalDeviceInfo d;
  d.name = "synthetic";
  d.usable = true;
  d.subgroup_ops = true;
  d.subgroup_size = 32;
  d.shader_int16 = true;
  d.storage_buffer_16bit = true;
  d.shader_features = {true, true, true, true, true, true};
  auto& l = d.props.limits;
  l.maxComputeSharedMemorySize = 49152;
  l.maxComputeWorkGroupInvocations = 1024;
  l.maxComputeWorkGroupSize[0] = l.maxComputeWorkGroupSize[1] = 1024;
  l.maxComputeWorkGroupSize[2] = 64;
  l.maxStorageBufferRange = 0xffffffffu;
  l.maxPushConstantsSize = 256;
  l.maxPerStageDescriptorStorageBuffers = 1u << 20;
  l.minStorageBufferOffsetAlignment = 16;
  return d;
}

const DeviceProfile& profile(const char* name) {
  const DeviceProfile* p = find_device_profile(name);
  EXPECT_NE(p, nullptr) << name;
  return *p;
}

TEST(VulkanDeviceProfile, AndroidBaseline2022PlansWithItsNumbers) {
  auto e = apply_profile(big_device(), profile("android-baseline-2022"));
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  KernelLimits k = kernel_limits(*e, "android-baseline-2022");
  EXPECT_EQ(k.max_shared_bytes, 32768u);
  EXPECT_EQ(k.max_workgroup_invocations, 128u);
  EXPECT_EQ(e->props.limits.maxComputeWorkGroupSize[0], 128u);
  EXPECT_EQ(e->props.limits.maxComputeWorkGroupSize[2], 64u);  // the device's smaller z (kernels use x only)
  EXPECT_EQ(k.max_storage_buffer_range, 256u << 20);
  EXPECT_EQ(k.max_push_constant_bytes, 128u);
  EXPECT_EQ(k.max_storage_buffers, 35u);
  EXPECT_EQ(e->props.limits.minStorageBufferOffsetAlignment, 256u);
  EXPECT_FALSE(k.subgroups);  // Vulkan 1.0: no subgroup operations guaranteed
  EXPECT_FALSE(k.features.subgroup_arithmetic);
  EXPECT_FALSE(k.features.float16_arithmetic);  // shaderInt16 but no shaderFloat16
  EXPECT_FALSE(k.features.int8_arithmetic);
  EXPECT_FALSE(k.features.integer_dot_product);
  EXPECT_FALSE(k.features.cooperative_matrix_khr || k.features.cooperative_matrix_nv);
}

// 16-bit storage (the F16 key/value caches' default): kept by `full`, hidden by both small profiles
// (Android Baseline 2022 is Vulkan 1.0 without VK_KHR_16bit_storage; the board class has none).
TEST(VulkanDeviceProfile, SixteenBitStorageOnlyUnderFull) {
  for (const char* name : {"full", "android-baseline-2022", "raspberry-pi"}) {
    auto e = apply_profile(big_device(), profile(name));
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    EXPECT_EQ(kernel_limits(*e, name).storage_16bit, std::string(name) == "full") << name;
  }
  PhysicalDeviceInfo without = big_device();
  without.storage_buffer_16bit = false;
  EXPECT_FALSE(kernel_limits(apply_profile(without, profile("full")).value(), "full").storage_16bit);
}

TEST(VulkanDeviceProfile, RaspberryPiPlansWithItsNumbers) {
  auto e = apply_profile(big_device(), profile("raspberry-pi"));
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  KernelLimits k = kernel_limits(*e, "raspberry-pi");
  EXPECT_EQ(k.max_shared_bytes, 16384u);
  EXPECT_EQ(k.max_workgroup_invocations, 256u);
  EXPECT_EQ(k.max_storage_buffer_range, 128u << 20);
  EXPECT_EQ(k.max_storage_buffers, 8u);  // Mesa V3DV's MAX_STORAGE_BUFFERS
  EXPECT_EQ(k.subgroup_size, 16u);       // planning size: subgroup size 16 without arithmetic
  EXPECT_FALSE(k.subgroups);
  EXPECT_FALSE(k.features.float16_arithmetic || k.features.int8_arithmetic || k.features.integer_dot_product ||
               k.features.cooperative_matrix_khr || k.features.cooperative_matrix_nv);
}

TEST(VulkanDeviceProfile, FullIsTheDeviceAsItIs) {
  PhysicalDeviceInfo d = big_device();
  auto e = apply_profile(d, profile("full"));
  ASSERT_TRUE(e.ok());
  KernelLimits k = kernel_limits(*e, "full");
  EXPECT_EQ(k.max_shared_bytes, 49152u);
  EXPECT_EQ(k.max_workgroup_invocations, 1024u);
  EXPECT_TRUE(k.subgroups);
  EXPECT_EQ(k.subgroup_size, 32u);
  EXPECT_TRUE(k.features.float16_arithmetic && k.features.cooperative_matrix_nv);
}

TEST(VulkanDeviceProfile, ADeviceBelowAProfileIsRefusedNamingTheLimit) {
  PhysicalDeviceInfo d = big_device();
  d.props.limits.maxComputeSharedMemorySize = 16384;
  auto why = profile_shortfall(d, profile("android-baseline-2022"));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("maxComputeSharedMemorySize is 16384"), std::string::npos) << *why;
  auto e = apply_profile(d, profile("android-baseline-2022"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(e.status().message().find("android-baseline-2022"), std::string::npos);
  EXPECT_FALSE(profile_shortfall(d, profile("raspberry-pi")).has_value());  // 16 KiB is enough there

  PhysicalDeviceInfo small = big_device();
  small.props.limits.maxComputeWorkGroupInvocations = 128;
  why = profile_shortfall(small, profile("raspberry-pi"));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("maxComputeWorkGroupInvocations is 128"), std::string::npos) << *why;

  PhysicalDeviceInfo no_int16 = big_device();
  no_int16.shader_int16 = false;
  why = profile_shortfall(no_int16, profile("android-baseline-2022"));
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "no shaderInt16");
}

TEST(VulkanDeviceProfile, ASmallerBufferRangeIsPlannedWithTheDevicesValue) {
  PhysicalDeviceInfo d = big_device();
  d.props.limits.maxStorageBufferRange = 128u << 20;  // lavapipe
  d.props.limits.maxPerStageDescriptorStorageBuffers = 32;
  EXPECT_FALSE(profile_shortfall(d, profile("android-baseline-2022")).has_value());
  auto note = profile_deviation(d, profile("android-baseline-2022"));
  ASSERT_TRUE(note.has_value());
  EXPECT_NE(note->find("maxStorageBufferRange"), std::string::npos);
  auto e = apply_profile(d, profile("android-baseline-2022"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->props.limits.maxStorageBufferRange, 128u << 20);
  EXPECT_EQ(e->props.limits.maxPerStageDescriptorStorageBuffers, 32u);
}

TEST(VulkanDeviceProfile, UnknownProfileIsAnInvalidArgument) {
  ContextOptions o;
  o.profile = "iphone";
  auto c = Context::create(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("android-baseline-2022"), std::string::npos) << c.status().message();
}

// `tessera devices`: every device line says, for each profile, whether the device meets it.
TEST(VulkanDeviceProfile, DeviceListingNamesEveryProfile) {
  auto lines = list_vulkan_devices();
  if (!lines.ok() || lines->empty()) GTEST_SKIP() << "no Vulkan device";
  for (const auto& line : *lines) {
    ASSERT_NE(line.find("profiles:"), std::string::npos) << line;
    for (const auto& p : device_profiles()) {
      std::string entry(" ");
      entry.append(p.name).append(" ");
      const size_t at = line.find(entry, line.find("profiles:"));
      ASSERT_NE(at, std::string::npos) << p.name << " in " << line;
      const std::string verdict = line.substr(at + entry.size(), 3);
      EXPECT_TRUE(verdict == "yes" || verdict.rfind("no ", 0) == 0) << line;
    }
  }
}

// The context of this run's profile: every planning number within the profile's.
class VulkanProfileContext : public test::VulkanTest {};

TEST_F(VulkanProfileContext, PlansWithinTheRunsProfile) {
  const KernelLimits& k = ctx_->limits();
  EXPECT_EQ(k.profile, test::test_profile());
  const DeviceProfile& p = profile(test::test_profile().c_str());
  EXPECT_LE(ctx_->workgroup_size(), k.max_workgroup_invocations);
  EXPECT_EQ(ctx_->workgroup_size() & (ctx_->workgroup_size() - 1), 0u);
  EXPECT_LE(ctx_->fit_workgroup(4096), k.max_workgroup_invocations);
  if (p.full) {
    EXPECT_EQ(k.subgroups, ctx_->info().subgroup_ops);
    return;
  }
  EXPECT_EQ(k.max_shared_bytes, p.max_compute_shared_memory_size);
  EXPECT_EQ(k.max_workgroup_invocations, p.max_compute_workgroup_invocations);
  EXPECT_LE(k.max_storage_buffer_range, p.max_storage_buffer_range);
  EXPECT_FALSE(k.subgroups);
  EXPECT_EQ(ctx_->rows_per_workgroup(ctx_->workgroup_size()), 1u);
  EXPECT_LE(ctx_->weights().max_slice(), p.max_storage_buffer_range);
}

}  // namespace
}  // namespace tessera::vk
