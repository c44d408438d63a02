#include "vulkan/device.h"

#include "vulkan/kernels.h"
#include "vulkan/vk_check.h"

namespace tessera::vk {

const char* PhysicalDeviceInfo::type_name() const {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
  }
}

bool DeviceShaderFeatures::has(std::string_view f) const {
  if (f == "integer_dot_product") return integer_dot_product;
  if (f == "cooperative_matrix_khr") return cooperative_matrix_khr;
  if (f == "cooperative_matrix_nv") return cooperative_matrix_nv;
  if (f == "float16_arithmetic") return float16_arithmetic;
  if (f == "int8_arithmetic") return int8_arithmetic;
  if (f == "subgroup_arithmetic") return subgroup_arithmetic;
  return false;
}

namespace {

// Feature structs are chained only when their extension is advertised: the instance asks for
// Vulkan 1.1, where a 1.2/1.3 struct without its extension is invalid usage.
// The one cooperative-matrix shape shaders/matmul_coopmat_nv.comp uses: 16 x 8 x 16, fp16 inputs,
// fp32 accumulators, subgroup scope.
bool lists_coop_shape_16x8x16(VkInstance instance, VkPhysicalDevice h) {
  auto list = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV>(
      vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV"));
  if (list == nullptr) return false;
  uint32_t n = 0;
  if (list(h, &n, nullptr) != VK_SUCCESS || n == 0) return false;
  std::vector<VkCooperativeMatrixPropertiesNV> props(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV});
  if (list(h, &n, props.data()) != VK_SUCCESS) return false;
  for (const auto& p : props)
    if (p.MSize == 16 && p.NSize == 8 && p.KSize == 16 && p.AType == VK_COMPONENT_TYPE_FLOAT16_NV &&
        p.BType == VK_COMPONENT_TYPE_FLOAT16_NV && p.CType == VK_COMPONENT_TYPE_FLOAT32_NV &&
        p.DType == VK_COMPONENT_TYPE_FLOAT32_NV && p.scope == VK_SCOPE_SUBGROUP_NV)
      return true;
  return false;
}

DeviceShaderFeatures query_shader_features(VkInstance instance, VkPhysicalDevice h,
                                           const VkPhysicalDeviceSubgroupProperties& sub) {
  DeviceShaderFeatures f;
  uint32_t n = 0;
  std::vector<VkExtensionProperties> exts;
  if (vkEnumerateDeviceExtensionProperties(h, nullptr, &n, nullptr) == VK_SUCCESS) {
    exts.resize(n);
    if (vkEnumerateDeviceExtensionProperties(h, nullptr, &n, exts.data()) != VK_SUCCESS) exts.clear();
    exts.resize(n);
  }
  auto has_ext = [&](std::string_view name) {
    for (const auto& e : exts)
      if (name == e.extensionName) return true;
    return false;
  };
  f.cooperative_matrix_khr = has_ext("VK_KHR_cooperative_matrix");
  // The NVIDIA variant also needs the Vulkan memory model (GL_KHR_memory_scope_semantics) and fp16
  // arithmetic in shaders; all three are enabled at device creation when present.
  const bool nv_coop_exts = has_ext(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME) &&
                            has_ext(VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME) &&
                            has_ext(VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  f.subgroup_arithmetic = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0 &&
                          (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) != 0;
  VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDeviceShaderFloat16Int8Features f16i8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
  VkPhysicalDeviceShaderIntegerDotProductFeatures dot{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
  void** next = &f2.pNext;
  if (has_ext(VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)) {
    *next = &f16i8;
    next = &f16i8.pNext;
  }
  if (has_ext(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME)) {
    *next = &dot;
    next = &dot.pNext;
  }
  VkPhysicalDeviceVulkanMemoryModelFeatures vmm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES};
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coop{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  if (nv_coop_exts) {
    *next = &vmm;
    vmm.pNext = &coop;
    next = &coop.pNext;
  }
  if (f2.pNext != nullptr) {
    vkGetPhysicalDeviceFeatures2(h, &f2);
    f.float16_arithmetic = f16i8.shaderFloat16 == VK_TRUE;
    f.int8_arithmetic = f16i8.shaderInt8 == VK_TRUE;
    f.integer_dot_product = dot.shaderIntegerDotProduct == VK_TRUE;
    // Device scope too: with the memory model enabled, the other kernels' device-scope barriers and
    // atomics need it.
    f.cooperative_matrix_nv = nv_coop_exts && coop.cooperativeMatrix == VK_TRUE && vmm.vulkanMemoryModel == VK_TRUE &&
                              vmm.vulkanMemoryModelDeviceScope == VK_TRUE && f.float16_arithmetic &&
                              lists_coop_shape_16x8x16(instance, h);
  }
  return f;
}

}  // namespace

Result<std::vector<PhysicalDeviceInfo>> enumerate_devices(VkInstance instance) {
  uint32_t n = 0;
  TESSERA_VK(vkEnumeratePhysicalDevices(instance, &n, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> handles(n);
  TESSERA_VK(vkEnumeratePhysicalDevices(instance, &n, handles.data()), "vkEnumeratePhysicalDevices");
  std::vector<PhysicalDeviceInfo> out;
  for (VkPhysicalDevice h : handles) {
    PhysicalDeviceInfo info;
    info.handle = h;
    vkGetPhysicalDeviceProperties(h, &info.props);
    vkGetPhysicalDeviceMemoryProperties(h, &info.memory);
    info.name = info.props.deviceName;
    info.type = info.props.deviceType;
    VkPhysicalDeviceSubgroupProperties sub{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    p2.pNext = &sub;
    if (info.props.apiVersion >= VK_API_VERSION_1_1) vkGetPhysicalDeviceProperties2(h, &p2);
    info.subgroup_size = sub.subgroupSize;
    if (info.props.apiVersion >= VK_API_VERSION_1_1) info.shader_features = query_shader_features(instance, h, sub);
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(h, &nq, nullptr);
    std::vector<VkQueueFamilyProperties> qf(nq);
    vkGetPhysicalDeviceQueueFamilyProperties(h, &nq, qf.data());
    for (uint32_t i = 0; i < nq; ++i) {
      if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
        info.compute_queue_family = i;
        info.timestamps = qf[i].timestampValidBits > 0 && info.props.limits.timestampPeriod > 0;
        break;
      }
    }
    const VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT |
                                        VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
    info.subgroup_ops = info.props.apiVersion >= VK_API_VERSION_1_1 &&
                        (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0 &&
                        (sub.supportedOperations & need) == need && info.subgroup_size >= 4 &&
                        info.subgroup_size <= 128;
    VkPhysicalDeviceFeatures features{};
    vkGetPhysicalDeviceFeatures(h, &features);
    info.shader_int16 = features.shaderInt16 == VK_TRUE;
    if (info.props.apiVersion >= VK_API_VERSION_1_1) {
      VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
      VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
      f2.pNext = &s16;
      vkGetPhysicalDeviceFeatures2(h, &f2);
      info.storage_buffer_16bit = s16.storageBuffer16BitAccess == VK_TRUE;
    }
    if (info.compute_queue_family == UINT32_MAX) info.unusable_reason = "no compute queue";
    else if (info.props.limits.maxPerStageDescriptorStorageBuffers < kPortableKernelBindings)
      info.unusable_reason = "fewer than " + std::to_string(kPortableKernelBindings) +
                             " storage buffers per shader stage";
    info.usable = info.unusable_reason.empty();
    out.push_back(std::move(info));
  }
  return out;
}

Result<PhysicalDeviceInfo> select_device(const std::vector<PhysicalDeviceInfo>& devices, int index,
                                         const std::string& name) {
  if (devices.empty()) return unavailable("vulkan: no Vulkan device found");
  auto check = [](const PhysicalDeviceInfo& d) -> Result<PhysicalDeviceInfo> {
    if (!d.usable) return unavailable("vulkan: device '" + d.name + "' is not usable: " + d.unusable_reason);
    return d;
  };
  if (!name.empty()) {
    for (const auto& d : devices)
      if (d.name.find(name) != std::string::npos) return check(d);
    return unavailable("vulkan: no device name contains '" + name + "'");
  }
  if (index >= 0) {
    if (size_t(index) >= devices.size())
      return invalid_argument("vulkan: device index " + std::to_string(index) + " out of range (" +
                              std::to_string(devices.size()) + " devices)");
    return check(devices[size_t(index)]);
  }
  for (VkPhysicalDeviceType t :
       {VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
        VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU, VK_PHYSICAL_DEVICE_TYPE_CPU, VK_PHYSICAL_DEVICE_TYPE_OTHER})
    for (const auto& d : devices)
      if (d.type == t && d.usable) return d;
  return check(devices.front());
}

Result<std::unique_ptr<Device>> Device::create(const PhysicalDeviceInfo& info) {
  float priority = 1.0f;
  VkDeviceQueueCreateInfo q{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  q.queueFamilyIndex = info.compute_queue_family;
  q.queueCount = 1;
  q.pQueuePriorities = &priority;
  VkDeviceCreateInfo ci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &q;
  // The NVIDIA cooperative-matrix kernels' requirements (query_shader_features checked them).
  std::vector<const char*> extensions;
  VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDeviceShaderFloat16Int8Features f16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
  VkPhysicalDeviceVulkanMemoryModelFeatures vmm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES};
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coop{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  if (info.shader_features.cooperative_matrix_nv) {
    extensions = {VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME, VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME,
                  VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME};
    f16.shaderFloat16 = VK_TRUE;
    vmm.vulkanMemoryModel = VK_TRUE;
    vmm.vulkanMemoryModelDeviceScope = VK_TRUE;
    coop.cooperativeMatrix = VK_TRUE;
    f2.pNext = &f16;
    f16.pNext = &vmm;
    vmm.pNext = &coop;
    ci.pNext = &f2;
    ci.enabledExtensionCount = uint32_t(extensions.size());
    ci.ppEnabledExtensionNames = extensions.data();
  }
  std::unique_ptr<Device> dev(new Device());
  dev->info_ = info;
  TESSERA_VK(vkCreateDevice(info.handle, &ci, nullptr, &dev->device_), "vkCreateDevice");
  vkGetDeviceQueue(dev->device_, info.compute_queue_family, 0, &dev->queue_);
  return dev;
}

Device::~Device() {
  if (device_ != VK_NULL_HANDLE) {
    vkDeviceWaitIdle(device_);
    vkDestroyDevice(device_, nullptr);
  }
}

}  // namespace tessera::vk
