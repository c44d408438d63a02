// Command submission objects, one small RAII class each: command pool, command buffer, fence,
// timestamp query pool.
#pragma once

#include <volk.h>

#include <memory>

#include "tessera/status.h"
#include "vulkan/device.h"

namespace tessera::vk {

class CommandPool {
 public:
  static Result<std::unique_ptr<CommandPool>> create(const Device& device);
  ~CommandPool();
  CommandPool(const CommandPool&) = delete;
  CommandPool& operator=(const CommandPool&) = delete;
  VkCommandPool handle() const { return pool_; }

 private:
  CommandPool() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
};

class CommandBuffer {
 public:
  static Result<std::unique_ptr<CommandBuffer>> create(const Device& device, const CommandPool& pool);
  ~CommandBuffer();
  CommandBuffer(const CommandBuffer&) = delete;
  CommandBuffer& operator=(const CommandBuffer&) = delete;
  VkCommandBuffer handle() const { return cb_; }
  Status begin(bool one_time);
  Status end();

 private:
  CommandBuffer() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cb_ = VK_NULL_HANDLE;
};

class Fence {
 public:
  static Result<std::unique_ptr<Fence>> create(const Device& device);
  ~Fence();
  Fence(const Fence&) = delete;
  Fence& operator=(const Fence&) = delete;
  VkFence handle() const { return fence_; }
  Status wait_and_reset();

 private:
  Fence() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
};

class QueryPool {
 public:
  static Result<std::unique_ptr<QueryPool>> create(const Device& device, uint32_t count);
  ~QueryPool();
  QueryPool(const QueryPool&) = delete;
  QueryPool& operator=(const QueryPool&) = delete;
  VkQueryPool handle() const { return pool_; }
  // Nanoseconds between timestamps `first` and `second` of the last completed submission.
  Result<double> elapsed_ns(uint32_t first, uint32_t second) const;

 private:
  QueryPool() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueryPool pool_ = VK_NULL_HANDLE;
  double period_ns_ = 1.0;
  uint32_t valid_bits_ = 64;
};

// Submits one command buffer and blocks until it completes.
Status submit_and_wait(const Device& device, VkCommandBuffer cb, Fence& fence);

}  // namespace tessera::vk
