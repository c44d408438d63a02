// The Vulkan Backend/BackendSequence classes (internal: tests and benchmarks use the extras —
// greedy argmax on the GPU, GPU time from timestamp queries, models without a GGUF).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "backend/backend.h"
#include "vulkan/context.h"
#include "vulkan/gpu_model.h"
#include "vulkan/recording.h"
#include "vulkan/sequence_state.h"

namespace tessera::vk {

// What a backend's sequences share: the context and the uploaded model (destroyed last).
struct BackendShared {
  std::shared_ptr<const void> keep_alive;  // the ModelWeights the view points into, if any
  std::unique_ptr<Context> context;
  std::unique_ptr<GpuModel> model;
  // The context's queue, command pool and block allocator are not thread-safe: the sessions of one
  // model take turns on them, so that sessions on different threads are safe (they do not overlap).
  std::mutex device_mutex;
  ~BackendShared() {
    model.reset();
    context.reset();
  }
};

class VulkanSequence final : public BackendSequence {
 public:
  VulkanSequence(std::shared_ptr<BackendShared> shared, std::unique_ptr<SequenceState> state);
  ~VulkanSequence() override;
  Status forward(std::span<const int32_t> tokens, std::span<float> logits, bool all_rows) override;
  void reset() override;
  int64_t position() const override { return position_; }
  int64_t capacity() const override { return state_->capacity; }
  // Argmax of the last logits row, computed on the GPU by the last forward (lowest index on ties).
  int32_t greedy_token() const;
  // GPU time of the last recorded forward submitted (timestamp queries), in nanoseconds.
  Result<double> last_gpu_ns() const;
  // Device bytes this sequence allocated (caches, states, scratch).
  uint64_t device_bytes() const { return state_->device.bytes_allocated(); }
  // Same as forward() but copies no logits to the host (benchmarks: GPU argmax only).
  Status forward_greedy(std::span<const int32_t> tokens);
  // Rows of one recorded chunk at most (longer feeds run in chunks of this many).
  uint32_t rows_per_forward() const { return state_->rows_per_forward; }
  // Benchmarks: record later forwards with a timestamp per dispatch (Recording::profile()).
  void set_profiling(bool on) {
    if (on != profiling_) recordings_.clear();
    last_ = nullptr;
    profiling_ = on;
  }
  // Dispatches and barriers of the last recorded forward submitted (its last chunk), 0 before any.
  size_t last_dispatches() const { return last_ ? last_->dispatch_count() : 0; }
  size_t last_barriers() const { return last_ ? last_->barrier_count() : 0; }
  Result<std::vector<Recording::ProfileEntry>> last_profile() const {
    if (!last_) return unavailable("vulkan: nothing ran yet");
    return last_->profile();
  }

 private:
  Status run(std::span<const int32_t> tokens, std::span<float> logits, bool all_rows, bool copy_logits);
  Result<Recording*> recording(uint32_t n, LogitsMode mode);
  std::shared_ptr<BackendShared> shared_;
  std::unique_ptr<SequenceState> state_;
  std::map<std::pair<uint32_t, int>, std::unique_ptr<Recording>> recordings_;
  Recording* last_ = nullptr;
  int64_t position_ = 0;
  bool profiling_ = false;
};

class VulkanBackend final : public Backend {
 public:
  explicit VulkanBackend(std::shared_ptr<BackendShared> shared) : shared_(std::move(shared)) {}
  std::string name() const override;
  int64_t max_sequence_positions() const override;
  CheckedSize sequence_state_bytes(int64_t max_tokens) const override;
  Result<std::unique_ptr<BackendSequence>> new_sequence(int64_t max_tokens) override;
  Context& context() { return *shared_->context; }

 private:
  std::shared_ptr<BackendShared> shared_;
};

struct ModelView;
// For tests and benchmarks: a backend over a model held in memory (kept alive by `keep_alive`).
// `reject_cpu_device`: kUnavailable when the chosen device is a CPU implementation (kAuto).
Result<std::unique_ptr<VulkanBackend>> make_backend_from_view(const ModelView& view, const ContextOptions& options,
                                                              std::shared_ptr<const void> keep_alive,
                                                              bool reject_cpu_device = false);

}  // namespace tessera::vk
