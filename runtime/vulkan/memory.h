// Device memory: a MemoryBlock is one VkDeviceMemory with one VkBuffer over all of it (RAII);
// a BlockAllocator bump-allocates aligned slices from blocks, so tensors never get their own
// allocation. Blocks never exceed maxStorageBufferRange (lavapipe: 128 MiB), so every slice can
// be bound as one storage buffer; offsets honour minStorageBufferOffsetAlignment.
#pragma once

#include <volk.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "tessera/status.h"
#include "vulkan/device.h"

namespace tessera::vk {

enum class MemoryKind {
  kDeviceLocal,   // weights, caches, scratch (filled by staging copies unless host-visible)
  kHostUpload,    // host-visible coherent: staging, per-step inputs
  kHostReadback,  // host-visible, cached when available: results read by the host
};

class MemoryBlock {
 public:
  static Result<std::unique_ptr<MemoryBlock>> create(const Device& device, VkDeviceSize size, MemoryKind kind,
                                                     bool want_host_visible);
  ~MemoryBlock();
  MemoryBlock(const MemoryBlock&) = delete;
  MemoryBlock& operator=(const MemoryBlock&) = delete;
  VkBuffer buffer() const { return buffer_; }
  VkDeviceSize size() const { return size_; }
  std::byte* mapped() const { return mapped_; }  // nullptr when not host-visible

 private:
  MemoryBlock() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkDeviceSize size_ = 0;
  std::byte* mapped_ = nullptr;
};

// A sub-range of a block: what descriptors bind.
struct BufferSlice {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0, size = 0;
  std::byte* mapped = nullptr;  // host pointer to `offset` when host-visible
  bool valid() const { return buffer != VK_NULL_HANDLE; }
  // The `bytes` bytes from offset `at` on within this slice (the caller keeps them inside it).
  BufferSlice part(VkDeviceSize at, VkDeviceSize bytes) const {
    return {buffer, offset + at, bytes, mapped ? mapped + at : nullptr};
  }
};

class BlockAllocator {
 public:
  // New blocks are `block_size` (or one slice, if larger). A slice never exceeds `max_range`, clamped
  // to maxStorageBufferRange (tests lower it to exercise split matrices). `want_host_visible` asks
  // for device-local memory that the host can also map (the UMA direct-upload path).
  BlockAllocator(const Device& device, MemoryKind kind, VkDeviceSize block_size, bool want_host_visible,
                 VkDeviceSize max_range = ~VkDeviceSize(0));
  Result<BufferSlice> allocate(VkDeviceSize size, const std::string& what);
  VkDeviceSize max_slice() const { return max_range_; }
  VkDeviceSize bytes_reserved() const;                         // sum of block sizes
  VkDeviceSize bytes_allocated() const { return allocated_; }  // sum of slices handed out
  bool host_visible() const;

 private:
  const Device& device_;
  MemoryKind kind_;
  VkDeviceSize block_size_, alignment_, max_range_;
  bool want_host_visible_;
  std::vector<std::unique_ptr<MemoryBlock>> blocks_;
  VkDeviceSize used_in_last_ = 0, allocated_ = 0;
};

}  // namespace tessera::vk
