// A command buffer recorded once (per shape) and replayed: dispatches with their own descriptor
// sets, barriers, copies and timestamps. Owns everything it references except the buffers.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tessera/status.h"
#include "vulkan/commands.h"
#include "vulkan/context.h"

namespace tessera::vk {

struct Groups {
  uint32_t x = 1, y = 1, z = 1;
};

class Recording {
 public:
  // `timestamps`: number of timestamp slots (0 = none, or the device has no timestamps).
  static Result<std::unique_ptr<Recording>> create(Context& context, uint32_t timestamps = 2);
  Status begin();
  template <class Push>
  Status dispatch(const std::string& kernel, std::vector<uint32_t> spec, std::initializer_list<BufferSlice> buffers,
                  const Push& push, Groups groups) {
    static_assert(sizeof(Push) <= kPushConstantBytes);
    return dispatch_raw(kernel, std::move(spec), buffers, &push, sizeof(Push), groups);
  }
  // Makes earlier shader/transfer writes visible to later shader/transfer reads and writes.
  void barrier();
  void copy(const BufferSlice& src, VkDeviceSize src_off, const BufferSlice& dst, VkDeviceSize dst_off,
            VkDeviceSize size);
  // Fills `dst` (whole slice, size a multiple of 4) with the 32-bit word `value`.
  void fill(const BufferSlice& dst, uint32_t value);
  void timestamp(uint32_t slot);
  Status end();
  // Submits and waits (replayable any number of times).
  Status submit();
  // GPU nanoseconds between two timestamp slots of the last submission.
  Result<double> elapsed_ns(uint32_t first, uint32_t second) const;
  bool has_timestamps() const { return queries_ != nullptr; }
  // One past the highest timestamp slot recorded so far (a slot never written is never ready).
  uint32_t timestamps_used() const { return timestamps_used_; }
  size_t dispatch_count() const { return dispatches_; }

 private:
  Status dispatch_raw(const std::string& kernel, std::vector<uint32_t> spec, std::initializer_list<BufferSlice> buffers,
                      const void* push, size_t push_size, Groups groups);
  explicit Recording(Context& c) : context_(c) {}
  Context& context_;
  std::unique_ptr<CommandBuffer> cb_;
  std::unique_ptr<QueryPool> queries_;
  uint32_t query_count_ = 0, timestamps_used_ = 0;
  std::vector<std::unique_ptr<DescriptorPool>> pools_;
  size_t dispatches_ = 0;
};

}  // namespace tessera::vk
