// Device-limits profiles: the backend plans as if the device had only a profile's limits and
// features (effective value = the stricter of the device's and the profile's), so a phone- or
// board-class GPU's constraints can be exercised on any device that meets them (lavapipe in CI).
// A device that does not meet a requested profile is refused with the first limit that fails
// (profile_shortfall).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tessera/status.h"
#include "vulkan/device.h"

namespace tessera::vk {

struct DeviceProfile {
  std::string_view name;         // as given to --vulkan-profile / LoadOptions::vulkan_profile
  std::string_view description;  // one line for --help and `tessera devices`
  bool full = false;             // the device as it is: no cap, no requirement
  // Minimums the device must report; the backend then plans with exactly these.
  uint32_t max_compute_shared_memory_size = 0;
  uint32_t max_compute_workgroup_invocations = 0;
  uint32_t max_compute_workgroup_size = 0;  // each of x, y, z
  uint64_t max_storage_buffer_range = 0;
  uint32_t max_push_constants_size = 0;
  uint32_t max_per_stage_storage_buffers = 0;
  // A maximum: the device's alignment must be at most this; slices are then aligned to it.
  uint32_t min_storage_buffer_offset_alignment = 0;
  bool requires_shader_int16 = false;
  // Planning: the subgroup size workgroup sizes are derived from (0: the device's), and which
  // optional features kernels may use (false hides the device's feature; true uses it if present).
  uint32_t planning_subgroup_size = 0;
  bool subgroup_operations = false;  // basic + arithmetic + shuffle in compute shaders
  bool float16_arithmetic = false;
  bool int8_arithmetic = false;
  bool integer_dot_product = false;
  bool cooperative_matrix = false;
  bool storage_16bit = false;  // storageBuffer16BitAccess (the F16 key/value caches' default)
};

// "full", "android-baseline-2022", "raspberry-pi".
std::span<const DeviceProfile> device_profiles();
// nullptr for an unknown name.
const DeviceProfile* find_device_profile(std::string_view name);
// "full, android-baseline-2022, raspberry-pi" (for error messages and --help).
std::string device_profile_names();

// What kernels plan with: the effective limits and features of the device under a profile.
struct KernelLimits {
  std::string profile = "full";
  uint32_t max_workgroup_invocations = 0;  // min(maxComputeWorkGroupInvocations, maxComputeWorkGroupSize[0])
  uint32_t max_shared_bytes = 0;           // maxComputeSharedMemorySize
  VkDeviceSize max_storage_buffer_range = 0;
  uint32_t max_push_constant_bytes = 0;
  uint32_t max_storage_buffers = 0;  // per stage, i.e. per kernel
  uint32_t subgroup_size = 0;        // the device's (the planning one when subgroups is false)
  // Kernels run their subgroup flavour (subgroup arithmetic/shuffle); else the shared-memory
  // flavour, where every subgroup operation is a workgroup-wide shared-memory one.
  bool subgroups = false;
  DeviceShaderFeatures features;  // optional GLSL features kernels may use
  bool storage_16bit = false;     // storageBuffer16BitAccess under the profile
};

// Why `device` cannot run under `profile` (the first limit or feature that fails), or nullopt.
// The limits that shape the kernels are requirements: shared memory, workgroup invocations and
// size, push constants, and the profile's required features.
std::optional<std::string> profile_shortfall(const PhysicalDeviceInfo& device, const DeviceProfile& profile);
// Where a device that can run under `profile` is still stricter than it (lavapipe: 128 MiB
// maxStorageBufferRange and 32 storage buffers per stage against Android Baseline 2022's 256 MiB and
// 35). The plan takes the stricter value (min range and count, max alignment): that only moves
// where large matrices are split across buffers, and every portable kernel binds at most
// kPortableKernelBindings (8) buffers, each kernel checked against the effective count.
std::optional<std::string> profile_deviation(const PhysicalDeviceInfo& device, const DeviceProfile& profile);

// The device as the backend must see it under `profile`: limits capped, features masked, the
// subgroup flavour off unless both allow it. Unsupported (naming the shortfall) when the device
// does not meet the profile.
Result<PhysicalDeviceInfo> apply_profile(const PhysicalDeviceInfo& device, const DeviceProfile& profile);
KernelLimits kernel_limits(const PhysicalDeviceInfo& effective, std::string_view profile_name);

}  // namespace tessera::vk
