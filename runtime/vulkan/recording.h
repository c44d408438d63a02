// A command buffer recorded once (per shape) and replayed: dispatches with their own descriptor
// sets, barriers, copies and timestamps. Owns everything it references except the buffers.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "tessera/status.h"
#include "vulkan/commands.h"
#include "vulkan/context.h"
#include "vulkan/kernels.h"

namespace tessera::vk {

struct Groups {
  uint32_t x = 1, y = 1, z = 1;
};

class Recording {
 public:
  // `timestamps`: number of timestamp slots (0 = none, or the device has no timestamps).
  // `profile`: also a timestamp after every dispatch (slots after `timestamps`), for profile().
  static Result<std::unique_ptr<Recording>> create(Context& context, uint32_t timestamps = 2, bool profile = false);
  Status begin();
  // One dispatch of kernel K: buffers[i] at binding i, `push` its push-constant block, spec[i] its
  // specialisation constant i (later ones keep their defaults). The counts of buffers and constants and
  // the push size are checked against K's reflected contract at compile time (the push struct's members
  // where it is declared: TESSERA_VK_PUSH_CONTRACT).
  template <KernelId K, class Push, size_t S, size_t N>
  Status dispatch(const uint32_t (&spec)[S], const BufferSlice (&buffers)[N], const Push& push, Groups groups) {
    constexpr const KernelContract& contract = kernel_contract(K);
    static_assert(!contract.built || S <= contract.spec.size(), "more specialisation constants than the kernel has");
    static_assert(!contract.built || N == contract.bindings, "buffer count differs from the kernel's bindings");
    static_assert(!contract.built || sizeof(Push) == contract.push_bytes, "push constants differ from the kernel's");
    static_assert(std::is_trivially_copyable_v<Push>);
    return dispatch_raw(K, std::vector<uint32_t>(spec, spec + S), std::span<const BufferSlice>(buffers, N), &push,
                        sizeof(Push), groups);
  }
  // Makes earlier shader writes visible to later shader reads and writes (compute stage only: no
  // transfer work is waited for, the cheapest dependency between two dispatches).
  void barrier();
  // The same, also ordering transfers (copy()) on either side.
  void barrier_with_transfers();
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
  // Profile mode: per dispatch, its label (kernel and grid) and the GPU nanoseconds since the
  // previous dispatch ended (the first: since timestamp slot 0). The timestamps serialise
  // dispatches that would otherwise overlap, so the sum exceeds elapsed_ns(0, 1) somewhat.
  struct ProfileEntry {
    std::string label;
    double ns = 0;
  };
  Result<std::vector<ProfileEntry>> profile() const;
  // One past the highest timestamp slot recorded so far (a slot never written is never ready).
  uint32_t timestamps_used() const { return timestamps_used_; }
  // What the last begin() .. end() recorded: dispatches, and barriers (barrier() and
  // barrier_with_transfers(); the host-visibility barrier of end() is not counted).
  size_t dispatch_count() const { return dispatches_; }
  size_t barrier_count() const { return barriers_; }

 private:
  Status dispatch_raw(KernelId kernel, std::vector<uint32_t> spec, std::span<const BufferSlice> buffers,
                      const void* push, size_t push_size, Groups groups);
  explicit Recording(Context& c) : context_(c) {}
  Context& context_;
  std::unique_ptr<CommandBuffer> cb_;
  std::unique_ptr<QueryPool> queries_;
  uint32_t query_count_ = 0, timestamps_used_ = 0;
  std::vector<std::unique_ptr<DescriptorPool>> pools_;
  size_t dispatches_ = 0, barriers_ = 0;
  bool profile_ = false;
  std::vector<std::string> labels_;  // profile mode: one per dispatch
};

}  // namespace tessera::vk
