// One sequence's device state (caches, recurrent states, scratch) and the recording of a forward
// pass over n fed tokens into it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "vulkan/gpu_model.h"
#include "vulkan/ops.h"

namespace tessera::vk {

// Rows fed per recorded forward at most; longer prompts run in chunks. Long chunks give the tiled
// products and the tiled attention more rows per pass (on an H100 a 2K prompt took 60.5 ms in one
// chunk and 61.2 ms in four 512-row chunks: the persistent memory dominates either way,
// docs/benchmarks.md). A chunk's activations (x, o and the key | value projections: 16 C bytes per
// row) stay within kChunkActivationBytes, so the scratch stays within 64 MiB beyond weights and caches
// (GPT-2-sized: 25 MB of activations at 2 048 rows, 25.8 MB of logits); the attention passes keep
// kAttentionRowsPerPass rows and the persistent memory's partials a fixed budget (fewer slot splits
// for more rows, ops_pmem.cpp). A forward that returns every row's logits feeds at most
// kMaxLogitRows rows (12.9 MB of logits per buffer for a 50k vocabulary).
constexpr uint32_t kMaxRowsPerForward = 2048;
constexpr uint64_t kChunkActivationBytes = 32ull << 20;
// Rows per chunk for a model of n_embd channels: 2 048 up to C = 1 024, fewer (whole multiples of 64,
// at least 64) for wider models: 1 280 rows at C = 1 600, 1 024 at C = 2 048.
constexpr uint32_t rows_per_forward(uint64_t n_embd) {
  const uint64_t fit = kChunkActivationBytes / (16 * std::max<uint64_t>(n_embd, 1)) / 64 * 64;
  return uint32_t(std::clamp<uint64_t>(fit, 64, kMaxRowsPerForward));
}
constexpr uint32_t kAttentionRowsPerPass = 128;
constexpr uint32_t kMaxLogitRows = 64;

// kGreedy: the last row's logits and argmax stay on the device (no host copy in the step).
enum class LogitsMode { kNone, kLast, kAll, kGreedy };

struct SequenceState {
  uint32_t capacity = 0;
  uint32_t rows_per_forward = 0;  // rows per recorded chunk at most (rows_per_forward())
  BlockAllocator device, upload, readback;
  BufferSlice step, tokens;  // host-visible: {pos0, n}, n token ids
  BufferSlice x, u, o;       // [rows, C] scratch (u: inside uw)
  BufferSlice h;             // [kMaxLogitRows, C]: the final LayerNorm
  BufferSlice uw;            // [rows, 2C]: key | value projections (shares a region, forward.cpp)
  BufferSlice states;        // per layer [ctx leaky state, pmem leaky state, w_{pos0-1}], C each
  std::vector<BufferSlice> key_cache, value_cache;  // per layer [capacity, C]
  bool kv_f16 = false;                              // caches of IEEE halves, 2 per word (Context::kv_cache_f16)
  BufferSlice logits;                               // [kMaxLogitRows, V] (in uw's region: written last)
  BufferSlice logits_host;                          // readback copy
  BufferSlice greedy;                               // host-visible: argmax of the last logits row
  BufferSlice kv_counters;                          // shaders/kv_project.comp completion counters (zeroed once)
  BufferSlice argmax_scratch;                       // per-workgroup maxima + completion counter (zeroed once)
  AttentionScratch ctx_scratch;
  PmemScratch pmem_scratch;

  explicit SequenceState(Context& ctx)
      : device(ctx.make_device_allocator()),
        upload(ctx.make_host_allocator(MemoryKind::kHostUpload)),
        readback(ctx.make_host_allocator(MemoryKind::kHostReadback)) {}
};

Result<std::unique_ptr<SequenceState>> make_sequence_state(Context& ctx, const GpuModel& model, uint32_t capacity);

// Records the forward of `n` rows starting at the position in `state.step` (read at run time).
Status record_forward(Recording& rec, Context& ctx, const GpuModel& model, SequenceState& state, uint32_t n,
                      LogitsMode mode);

}  // namespace tessera::vk
