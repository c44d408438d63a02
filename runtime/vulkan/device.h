// Physical device discovery/selection and the logical device (RAII) with one compute queue.
#pragma once

#include <volk.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera::vk {

// What the device reports for each optional GLSL feature of shaders/probes/ (same names).
struct DeviceShaderFeatures {
  bool integer_dot_product = false;     // shaderIntegerDotProduct (VK_KHR_shader_integer_dot_product)
  bool cooperative_matrix_khr = false;  // VK_KHR_cooperative_matrix advertised
  bool cooperative_matrix_nv = false;   // VK_NV_cooperative_matrix with the 16x8x16 fp16->fp32 shape, the
                                        // Vulkan memory model and shaderFloat16 (enabled at creation)
  bool float16_arithmetic = false;      // shaderFloat16 (VK_KHR_shader_float16_int8)
  bool int8_arithmetic = false;         // shaderInt8 (VK_KHR_shader_float16_int8)
  bool subgroup_arithmetic = false;     // VK_SUBGROUP_FEATURE_ARITHMETIC_BIT in compute
  // By probe name; false for an unknown name.
  bool has(std::string_view feature) const;
};

struct PhysicalDeviceInfo {
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  VkPhysicalDeviceProperties props{};
  VkPhysicalDeviceMemoryProperties memory{};
  uint32_t compute_queue_family = UINT32_MAX;
  uint32_t subgroup_size = 0;
  // Vulkan 1.1 with basic, arithmetic and shuffle subgroup operations in compute shaders (size 4..128):
  // kernels run their subgroup flavour; otherwise their shared-memory flavour (device_profile.h).
  bool subgroup_ops = false;
  bool shader_int16 = false;
  // storageBuffer16BitAccess (Vulkan 1.1 / VK_KHR_16bit_storage): the sign of a device that moves 16-bit
  // data natively; the key/value caches default to F16 where it is set (ContextOptions::kv_cache).
  bool storage_buffer_16bit = false;
  bool usable = false;          // a compute queue and storage buffers enough for every kernel
  std::string unusable_reason;  // why not, when !usable
  bool timestamps = false;
  DeviceShaderFeatures shader_features;
  const char* type_name() const;
};

Result<std::vector<PhysicalDeviceInfo>> enumerate_devices(VkInstance instance);
// index >= 0 picks that device; a non-empty name picks the first whose name contains it; otherwise
// the first usable discrete GPU, then integrated, virtual, CPU (llvmpipe).
Result<PhysicalDeviceInfo> select_device(const std::vector<PhysicalDeviceInfo>& devices, int index,
                                         const std::string& name);

class Device {
 public:
  static Result<std::unique_ptr<Device>> create(const PhysicalDeviceInfo& info);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  VkDevice handle() const { return device_; }
  VkQueue queue() const { return queue_; }
  const PhysicalDeviceInfo& info() const { return info_; }
  const VkPhysicalDeviceLimits& limits() const { return info_.props.limits; }

 private:
  Device() = default;
  PhysicalDeviceInfo info_;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
};

}  // namespace tessera::vk
