#include "vulkan/instance.h"

#include <cstring>
#include <mutex>

#include "vulkan/loader.h"
#include "vulkan/vk_check.h"

namespace tessera::vk {
namespace {

std::mutex g_log_mutex;
std::vector<std::string> g_log;

VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                          VkDebugUtilsMessageTypeFlagsEXT,
                                          const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    std::lock_guard lock(g_log_mutex);
    g_log.emplace_back(data && data->pMessage ? data->pMessage : "(no message)");
  }
  return VK_FALSE;
}

bool has_layer(const char* name) {
  uint32_t n = 0;
  vkEnumerateInstanceLayerProperties(&n, nullptr);
  std::vector<VkLayerProperties> layers(n);
  vkEnumerateInstanceLayerProperties(&n, layers.data());
  for (const auto& l : layers)
    if (std::strcmp(l.layerName, name) == 0) return true;
  return false;
}

}  // namespace

std::vector<std::string> take_validation_messages() {
  std::lock_guard lock(g_log_mutex);
  return std::exchange(g_log, {});
}

Result<std::unique_ptr<Instance>> Instance::create(bool validation) {
  TESSERA_RETURN_IF_ERROR(open_vulkan_loader());
  const char* layer = "VK_LAYER_KHRONOS_validation";
  if (validation && !has_layer(layer))
    return unavailable("vulkan: validation requested but VK_LAYER_KHRONOS_validation is not installed");
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "tessera";
  app.apiVersion = VK_API_VERSION_1_1;
  VkDebugUtilsMessengerCreateInfoEXT dbg{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  dbg.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  dbg.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  dbg.pfnUserCallback = on_message;
  const char* ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  if (validation) {
    ci.enabledLayerCount = 1;
    ci.ppEnabledLayerNames = &layer;
    ci.enabledExtensionCount = 1;
    ci.ppEnabledExtensionNames = &ext;
    ci.pNext = &dbg;  // also reports instance creation/destruction
  }
  std::unique_ptr<Instance> inst(new Instance());
  VkResult r = vkCreateInstance(&ci, nullptr, &inst->instance_);
  if (r != VK_SUCCESS) {
    inst->instance_ = VK_NULL_HANDLE;
    return unavailable(std::string("vulkan: no usable Vulkan loader/driver (vkCreateInstance: ") + vk_result_name(r) +
                       ")");
  }
  load_instance_functions(inst->instance_);
  if (validation) {
    auto create_fn = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(inst->instance_, "vkCreateDebugUtilsMessengerEXT"));
    if (!create_fn) return unavailable("vulkan: VK_EXT_debug_utils is missing");
    TESSERA_VK(create_fn(inst->instance_, &dbg, nullptr, &inst->messenger_), "vkCreateDebugUtilsMessengerEXT");
  }
  return inst;
}

Instance::~Instance() {
  if (messenger_ != VK_NULL_HANDLE) {
    auto destroy_fn = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy_fn) destroy_fn(instance_, messenger_, nullptr);
  }
  if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
}

}  // namespace tessera::vk
