// VkInstance (RAII), optionally with VK_LAYER_KHRONOS_validation and a debug messenger that records
// every warning/error in a process-wide log (tests fail on any entry).
#pragma once

#include <volk.h>

#include <memory>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::vk {

class Instance {
 public:
  static Result<std::unique_ptr<Instance>> create(bool validation);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  VkInstance handle() const { return instance_; }
  bool validation() const { return messenger_ != VK_NULL_HANDLE; }

 private:
  Instance() = default;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
};

// Validation warnings/errors seen since the last call (and clears them).
std::vector<std::string> take_validation_messages();

}  // namespace tessera::vk
