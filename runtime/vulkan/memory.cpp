#include "vulkan/memory.h"

#include <algorithm>

#include "vulkan/vk_check.h"

namespace tessera::vk {
namespace {

// The first memory type allowed by `bits` that has all of `need` (and, first choice, `prefer`).
int find_memory_type(const VkPhysicalDeviceMemoryProperties& mem, uint32_t bits, VkMemoryPropertyFlags need,
                     VkMemoryPropertyFlags prefer) {
  for (int pass = 0; pass < 2; ++pass) {
    VkMemoryPropertyFlags want = pass == 0 ? (need | prefer) : need;
    for (uint32_t i = 0; i < mem.memoryTypeCount; ++i)
      if ((bits & (1u << i)) && (mem.memoryTypes[i].propertyFlags & want) == want) return int(i);
  }
  return -1;
}

}  // namespace

Result<std::unique_ptr<MemoryBlock>> MemoryBlock::create(const Device& device, VkDeviceSize size, MemoryKind kind,
                                                         bool want_host_visible) {
  std::unique_ptr<MemoryBlock> b(new MemoryBlock());
  b->device_ = device.handle();
  b->size_ = size;
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = size;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  TESSERA_VK(vkCreateBuffer(b->device_, &bi, nullptr, &b->buffer_), "vkCreateBuffer");
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(b->device_, b->buffer_, &req);
  const auto& mem = device.info().memory;
  int type = -1;
  switch (kind) {
    case MemoryKind::kDeviceLocal:
      if (want_host_visible)
        type = find_memory_type(mem, req.memoryTypeBits,
                                VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                0);
      if (type < 0) type = find_memory_type(mem, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
      if (type < 0) type = find_memory_type(mem, req.memoryTypeBits, 0, 0);
      break;
    case MemoryKind::kHostUpload:
      type = find_memory_type(mem, req.memoryTypeBits,
                              VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
      break;
    case MemoryKind::kHostReadback:
      type = find_memory_type(mem, req.memoryTypeBits,
                              VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                              VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
      break;
  }
  if (type < 0) return unsupported("vulkan: no suitable memory type for a buffer");
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = uint32_t(type);
  TESSERA_VK(vkAllocateMemory(b->device_, &ai, nullptr, &b->memory_),
             "vkAllocateMemory(" + std::to_string(req.size) + " bytes)");
  TESSERA_VK(vkBindBufferMemory(b->device_, b->buffer_, b->memory_, 0), "vkBindBufferMemory");
  if (mem.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    void* p = nullptr;
    TESSERA_VK(vkMapMemory(b->device_, b->memory_, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
    b->mapped_ = static_cast<std::byte*>(p);
  }
  return b;
}

MemoryBlock::~MemoryBlock() {
  if (buffer_ != VK_NULL_HANDLE) vkDestroyBuffer(device_, buffer_, nullptr);
  if (memory_ != VK_NULL_HANDLE) vkFreeMemory(device_, memory_, nullptr);  // unmaps implicitly
}

BlockAllocator::BlockAllocator(const Device& device, MemoryKind kind, VkDeviceSize block_size, bool want_host_visible,
                               VkDeviceSize max_range)
    : device_(device), kind_(kind), want_host_visible_(want_host_visible) {
  const auto& lim = device.limits();
  alignment_ = std::max<VkDeviceSize>({lim.minStorageBufferOffsetAlignment, 16, lim.nonCoherentAtomSize});
  max_range_ = std::min<VkDeviceSize>(max_range, lim.maxStorageBufferRange) / alignment_ * alignment_;
  block_size_ = std::min(block_size, max_range_);
}

Result<BufferSlice> BlockAllocator::allocate(VkDeviceSize size, const std::string& what) {
  VkDeviceSize need = std::max<VkDeviceSize>((size + alignment_ - 1) / alignment_ * alignment_, alignment_);
  if (need > max_range_)
    return unsupported("vulkan: " + what + " needs " + std::to_string(size) +
                       " bytes in one buffer; the device binds at most " + std::to_string(max_range_) +
                       " (maxStorageBufferRange)");
  if (blocks_.empty() || used_in_last_ + need > blocks_.back()->size()) {
    VkDeviceSize sz = std::max(need, block_size_);
    TESSERA_ASSIGN_OR_RETURN(auto block, MemoryBlock::create(device_, sz, kind_, want_host_visible_));
    blocks_.push_back(std::move(block));
    used_in_last_ = 0;
  }
  MemoryBlock& b = *blocks_.back();
  BufferSlice s{b.buffer(), used_in_last_, size, b.mapped() ? b.mapped() + used_in_last_ : nullptr};
  used_in_last_ += need;
  allocated_ += need;
  return s;
}

VkDeviceSize BlockAllocator::bytes_reserved() const {
  VkDeviceSize n = 0;
  for (const auto& b : blocks_) n += b->size();
  return n;
}

bool BlockAllocator::host_visible() const { return !blocks_.empty() && blocks_.front()->mapped() != nullptr; }

}  // namespace tessera::vk
