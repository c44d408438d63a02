#include "vulkan/device_profile.h"

#include <algorithm>

namespace tessera::vk {
namespace {

constexpr uint32_t kNoAlignmentCap = 0;

// Numbers of the Khronos profile VP_ANDROID_baseline_2022 (Vulkan 1.0, the compute-relevant
// limits and features; its graphics requirements do not concern a compute backend).
constexpr DeviceProfile kAndroidBaseline2022{
    .name = "android-baseline-2022",
    .description =
        "Khronos Android Baseline 2022: Vulkan 1.0 without subgroup operations, 32 KiB shared memory, "
        "128 invocations, 256 MiB buffers, no shaderFloat16 or 16-bit storage",
    .max_compute_shared_memory_size = 32768,
    .max_compute_workgroup_invocations = 128,
    .max_compute_workgroup_size = 128,
    .max_storage_buffer_range = 256ull << 20,
    .max_push_constants_size = 128,
    .max_per_stage_storage_buffers = 35,
    .min_storage_buffer_offset_alignment = 256,
    .requires_shader_int16 = true,
};

// A Raspberry Pi 4/5-class board (V3D): 16-wide subgroups without arithmetic, small shared memory.
constexpr DeviceProfile kRaspberryPi{
    .name = "raspberry-pi",
    .description =
        "Raspberry-Pi-class board: 16 KiB shared memory, 256 invocations, subgroup size 16 without "
        "arithmetic, 128 MiB buffers, 8 storage buffers per kernel, no fp16/int8 arithmetic, 8/16-bit "
        "storage, integer dot product or cooperative matrix",
    .max_compute_shared_memory_size = 16384,
    .max_compute_workgroup_invocations = 256,
    .max_compute_workgroup_size = 256,
    .max_storage_buffer_range = 128ull << 20,
    .max_push_constants_size = 128,
    .max_per_stage_storage_buffers = 8,  // Mesa V3DV's limit (MAX_STORAGE_BUFFERS, v3dv_limits.h)
    .min_storage_buffer_offset_alignment = kNoAlignmentCap,
    .planning_subgroup_size = 16,
};

constexpr DeviceProfile kFull{
    .name = "full",
    .description = "the device as it is: every limit and optional feature it reports",
    .full = true,
    .subgroup_operations = true,
    .float16_arithmetic = true,
    .int8_arithmetic = true,
    .integer_dot_product = true,
    .cooperative_matrix = true,
    .storage_16bit = true,
};

constexpr DeviceProfile kProfiles[] = {kFull, kAndroidBaseline2022, kRaspberryPi};

std::string below(const char* limit, uint64_t have, uint64_t need) {
  return std::string(limit) + " is " + std::to_string(have) + ", the profile needs at least " + std::to_string(need);
}

}  // namespace

std::span<const DeviceProfile> device_profiles() { return kProfiles; }

const DeviceProfile* find_device_profile(std::string_view name) {
  for (const auto& p : kProfiles)
    if (p.name == name) return &p;
  return nullptr;
}

std::string device_profile_names() {
  std::string s;
  for (const auto& p : kProfiles) s += (s.empty() ? "" : ", ") + std::string(p.name);
  return s;
}

std::optional<std::string> profile_shortfall(const PhysicalDeviceInfo& d, const DeviceProfile& p) {
  if (!d.usable) return "unusable: " + d.unusable_reason;
  if (p.full) return std::nullopt;
  const VkPhysicalDeviceLimits& l = d.props.limits;
  if (l.maxComputeSharedMemorySize < p.max_compute_shared_memory_size)
    return below("maxComputeSharedMemorySize", l.maxComputeSharedMemorySize, p.max_compute_shared_memory_size);
  if (l.maxComputeWorkGroupInvocations < p.max_compute_workgroup_invocations)
    return below("maxComputeWorkGroupInvocations", l.maxComputeWorkGroupInvocations,
                 p.max_compute_workgroup_invocations);
  // Kernels are one-dimensional: only x is a requirement (NVIDIA reports z = 64 below Android's 128).
  if (l.maxComputeWorkGroupSize[0] < p.max_compute_workgroup_size)
    return below("maxComputeWorkGroupSize[0]", l.maxComputeWorkGroupSize[0], p.max_compute_workgroup_size);
  if (l.maxPushConstantsSize < p.max_push_constants_size)
    return below("maxPushConstantsSize", l.maxPushConstantsSize, p.max_push_constants_size);
  if (p.requires_shader_int16 && !d.shader_int16) return std::string("no shaderInt16");
  return std::nullopt;
}

std::optional<std::string> profile_deviation(const PhysicalDeviceInfo& d, const DeviceProfile& p) {
  if (p.full) return std::nullopt;
  const VkPhysicalDeviceLimits& l = d.props.limits;
  if (l.maxStorageBufferRange < p.max_storage_buffer_range)
    return below("maxStorageBufferRange", l.maxStorageBufferRange, p.max_storage_buffer_range) +
           ": buffers are split at the device's range";
  if (l.maxPerStageDescriptorStorageBuffers < p.max_per_stage_storage_buffers)
    return below("maxPerStageDescriptorStorageBuffers", l.maxPerStageDescriptorStorageBuffers,
                 p.max_per_stage_storage_buffers) +
           ": each kernel's binding count is checked against the device's";
  if (p.min_storage_buffer_offset_alignment != kNoAlignmentCap &&
      l.minStorageBufferOffsetAlignment > p.min_storage_buffer_offset_alignment)
    return "minStorageBufferOffsetAlignment is " + std::to_string(l.minStorageBufferOffsetAlignment) +
           ", the profile allows at most " + std::to_string(p.min_storage_buffer_offset_alignment) +
           ": slices use the device's alignment";
  return std::nullopt;
}

Result<PhysicalDeviceInfo> apply_profile(const PhysicalDeviceInfo& d, const DeviceProfile& p) {
  if (auto why = profile_shortfall(d, p))
    return unsupported("vulkan: device '" + d.name + "' does not meet the '" + std::string(p.name) +
                       "' profile: " + *why);
  PhysicalDeviceInfo e = d;
  if (p.full) return e;
  VkPhysicalDeviceLimits& l = e.props.limits;
  l.maxComputeSharedMemorySize = p.max_compute_shared_memory_size;
  l.maxComputeWorkGroupInvocations = p.max_compute_workgroup_invocations;
  for (auto& s : l.maxComputeWorkGroupSize) s = std::min(s, p.max_compute_workgroup_size);
  l.maxStorageBufferRange = uint32_t(std::min<uint64_t>(l.maxStorageBufferRange, p.max_storage_buffer_range));
  l.maxPushConstantsSize = p.max_push_constants_size;
  l.maxPerStageDescriptorStorageBuffers =
      std::min(l.maxPerStageDescriptorStorageBuffers, p.max_per_stage_storage_buffers);
  l.minStorageBufferOffsetAlignment =
      std::max<VkDeviceSize>(l.minStorageBufferOffsetAlignment, p.min_storage_buffer_offset_alignment);
  e.subgroup_ops = d.subgroup_ops && p.subgroup_operations;
  e.storage_buffer_16bit = d.storage_buffer_16bit && p.storage_16bit;
  if (!e.subgroup_ops && p.planning_subgroup_size != 0) e.subgroup_size = p.planning_subgroup_size;
  DeviceShaderFeatures& f = e.shader_features;
  f.subgroup_arithmetic = f.subgroup_arithmetic && p.subgroup_operations;
  f.float16_arithmetic = f.float16_arithmetic && p.float16_arithmetic;
  f.int8_arithmetic = f.int8_arithmetic && p.int8_arithmetic;
  f.integer_dot_product = f.integer_dot_product && p.integer_dot_product;
  f.cooperative_matrix_khr = f.cooperative_matrix_khr && p.cooperative_matrix;
  f.cooperative_matrix_nv = f.cooperative_matrix_nv && p.cooperative_matrix;
  return e;
}

KernelLimits kernel_limits(const PhysicalDeviceInfo& e, std::string_view profile_name) {
  const VkPhysicalDeviceLimits& l = e.props.limits;
  KernelLimits k;
  k.profile = std::string(profile_name);
  k.max_workgroup_invocations = std::min(l.maxComputeWorkGroupInvocations, l.maxComputeWorkGroupSize[0]);
  k.max_shared_bytes = l.maxComputeSharedMemorySize;
  k.max_storage_buffer_range = l.maxStorageBufferRange;
  k.max_push_constant_bytes = l.maxPushConstantsSize;
  k.max_storage_buffers = l.maxPerStageDescriptorStorageBuffers;
  k.subgroup_size = e.subgroup_size;
  k.subgroups = e.subgroup_ops;
  k.features = e.shader_features;
  k.storage_16bit = e.storage_buffer_16bit;
  return k;
}

}  // namespace tessera::vk
