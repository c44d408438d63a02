#include "vulkan/commands.h"

#include <vector>

#include "vulkan/vk_check.h"

namespace tessera::vk {

Result<std::unique_ptr<CommandPool>> CommandPool::create(const Device& device) {
  std::unique_ptr<CommandPool> p(new CommandPool());
  p->device_ = device.handle();
  VkCommandPoolCreateInfo ci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  ci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  ci.queueFamilyIndex = device.info().compute_queue_family;
  TESSERA_VK(vkCreateCommandPool(p->device_, &ci, nullptr, &p->pool_), "vkCreateCommandPool");
  return p;
}
CommandPool::~CommandPool() {
  if (pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(device_, pool_, nullptr);
}

Result<std::unique_ptr<CommandBuffer>> CommandBuffer::create(const Device& device, const CommandPool& pool) {
  std::unique_ptr<CommandBuffer> c(new CommandBuffer());
  c->device_ = device.handle();
  c->pool_ = pool.handle();
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool.handle();
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  TESSERA_VK(vkAllocateCommandBuffers(c->device_, &ai, &c->cb_), "vkAllocateCommandBuffers");
  return c;
}
CommandBuffer::~CommandBuffer() {
  if (cb_ != VK_NULL_HANDLE) vkFreeCommandBuffers(device_, pool_, 1, &cb_);
}
Status CommandBuffer::begin(bool one_time) {
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = one_time ? VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT : 0;
  TESSERA_VK(vkBeginCommandBuffer(cb_, &bi), "vkBeginCommandBuffer");
  return Status::ok_status();
}
Status CommandBuffer::end() {
  TESSERA_VK(vkEndCommandBuffer(cb_), "vkEndCommandBuffer");
  return Status::ok_status();
}

Result<std::unique_ptr<Fence>> Fence::create(const Device& device) {
  std::unique_ptr<Fence> f(new Fence());
  f->device_ = device.handle();
  VkFenceCreateInfo ci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  TESSERA_VK(vkCreateFence(f->device_, &ci, nullptr, &f->fence_), "vkCreateFence");
  return f;
}
Fence::~Fence() {
  if (fence_ != VK_NULL_HANDLE) vkDestroyFence(device_, fence_, nullptr);
}
Status Fence::wait_and_reset() {
  TESSERA_VK(vkWaitForFences(device_, 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  TESSERA_VK(vkResetFences(device_, 1, &fence_), "vkResetFences");
  return Status::ok_status();
}

Result<std::unique_ptr<QueryPool>> QueryPool::create(const Device& device, uint32_t count) {
  std::unique_ptr<QueryPool> q(new QueryPool());
  q->device_ = device.handle();
  q->period_ns_ = device.limits().timestampPeriod;
  VkQueryPoolCreateInfo ci{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
  ci.queryType = VK_QUERY_TYPE_TIMESTAMP;
  ci.queryCount = count;
  TESSERA_VK(vkCreateQueryPool(q->device_, &ci, nullptr, &q->pool_), "vkCreateQueryPool");
  return q;
}
QueryPool::~QueryPool() {
  if (pool_ != VK_NULL_HANDLE) vkDestroyQueryPool(device_, pool_, nullptr);
}
Result<double> QueryPool::elapsed_ns(uint32_t first, uint32_t second) const {
  uint64_t t[2] = {0, 0};
  for (uint32_t i = 0; i < 2; ++i)
    TESSERA_VK(vkGetQueryPoolResults(device_, pool_, i == 0 ? first : second, 1, sizeof(uint64_t), &t[i],
                                     sizeof(uint64_t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
               "vkGetQueryPoolResults");
  return double(t[1] - t[0]) * period_ns_;
}

Status submit_and_wait(const Device& device, VkCommandBuffer cb, Fence& fence) {
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  TESSERA_VK(vkQueueSubmit(device.queue(), 1, &si, fence.handle()), "vkQueueSubmit");
  return fence.wait_and_reset();
}

}  // namespace tessera::vk
