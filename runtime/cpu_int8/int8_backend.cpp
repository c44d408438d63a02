// cpu-int8 backend (see int8_backend.h).
#include "cpu_int8/int8_backend.h"

#include <cstring>
#include <vector>

#include "cpu/thread_pool.h"
#include "cpu_int8/int8_forward.h"
#include "cpu_int8/int8_plan.h"

namespace tessera {
namespace {

// The instruction set a load asks for; kAuto: the fastest this CPU runs.
ops::int8::Isa isa_from_options(const LoadOptions& o) {
  switch (o.int8_kernel) {
    case Int8Kernel::kPortable: return ops::int8::Isa::kPortable;
    case Int8Kernel::kAvx2: return ops::int8::Isa::kAvx2;
    case Int8Kernel::kAvx512Vnni: return ops::int8::Isa::kAvx512Vnni;
    case Int8Kernel::kNeonDot: return ops::int8::Isa::kNeonDot;
    case Int8Kernel::kAuto: break;
  }
  return ops::int8::fastest_isa(ops::int8::host_cpu_features());
}

class Int8Sequence : public BackendSequence {
 public:
  Int8Sequence(std::shared_ptr<const int8::Int8Plan> plan, int64_t capacity, std::vector<std::byte> owned,
               std::span<std::byte> arena)
      : plan_(std::move(plan)), owned_(std::move(owned)) {
    if (arena.empty()) arena = owned_;
    const auto base = reinterpret_cast<uintptr_t>(arena.data());
    void* aligned = reinterpret_cast<void*>((base + 63) & ~uintptr_t(63));
    int8::int8_state_bind(plan_->model, capacity, aligned, &state_);
  }

  Status forward(std::span<const int32_t> tokens, std::span<float> logits, bool all_rows) override {
    const int8::Int8Model& m = plan_->model;
    const float s_logit = float(plan_->logit_scale);
    cpu::ThreadPool::DecodingScope decoding;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const bool want = all_rows || i + 1 == tokens.size();
      int8::int8_forward_token(m, &state_, tokens[i], want ? state_.logits : nullptr);
      if (!want) continue;
      // Dequantised only for the caller (sampling); argmax of the int32 logits is the same.
      float* out = logits.data() + (all_rows ? i * size_t(m.vocab_size) : 0);
      for (int64_t v = 0; v < m.vocab_size; ++v) out[v] = float(state_.logits[v]) * s_logit;
    }
    return {};
  }
  void reset() override { int8::int8_state_reset(plan_->model, &state_); }
  int64_t position() const override { return state_.position; }
  int64_t capacity() const override { return state_.capacity; }

 private:
  std::shared_ptr<const int8::Int8Plan> plan_;
  std::vector<std::byte> owned_;
  int8::Int8State state_;
};

class Int8Backend : public Backend {
 public:
  Int8Backend(std::shared_ptr<const ModelWeights> weights, std::shared_ptr<const int8::Int8Plan> plan)
      : weights_(std::move(weights)), plan_(std::move(plan)) {}

  std::string name() const override { return std::string("cpu-int8 (") + plan_->model.kernels->name + ")"; }

  // The arena is int8_state_bytes(capacity) + 64 bytes of alignment slack; the planner computes in 64 bits
  // with saturation and reports 0 for a size that cannot exist (then the request is unrepresentable).
  CheckedSize sequence_arena_bytes(int64_t max_tokens) const override {
    const uint64_t state = max_tokens < 0 ? 0 : int8::int8_state_bytes(plan_->model, max_tokens);
    return state == 0 ? CheckedSize::of(-1) : CheckedSize(state) + 64;
  }
  CheckedSize sequence_state_bytes(int64_t max_tokens) const override { return sequence_arena_bytes(max_tokens); }

  Result<std::unique_ptr<BackendSequence>> new_sequence(int64_t max_tokens) override {
    std::vector<std::byte> owned(size_t(sequence_arena_bytes(max_tokens).value()));
    return std::unique_ptr<BackendSequence>(new Int8Sequence(plan_, max_tokens, std::move(owned), {}));
  }

  Result<std::unique_ptr<BackendSequence>> new_sequence_in(int64_t max_tokens, std::span<std::byte> arena) override {
    return std::unique_ptr<BackendSequence>(new Int8Sequence(plan_, max_tokens, {}, arena));
  }

 private:
  std::shared_ptr<const ModelWeights> weights_;  // owns the mapped file the plan points into
  std::shared_ptr<const int8::Int8Plan> plan_;
};

// Int8Model::parallel_for over the float runtime's thread pool (created once at load, shared by every
// session of the model: ThreadPool::parallel_for is thread-safe).
void pool_parallel_for(void* executor, int64_t n, int8::Int8Model::RangeFn fn, void* ctx) {
  struct Forward {
    int8::Int8Model::RangeFn fn;
    void* ctx;
  } f{fn, ctx};
  static_cast<cpu::ThreadPool*>(executor)->parallel_for(
      n, [](void* c, int, int64_t b, int64_t e) { static_cast<Forward*>(c)->fn(static_cast<Forward*>(c)->ctx, b, e); },
      &f);
}

}  // namespace

Result<std::unique_ptr<Backend>> make_int8_backend(std::shared_ptr<const ModelWeights> weights,
                                                   const LoadOptions& options) {
  const gguf::File& file = weights->file();
  const ops::int8::Isa isa = isa_from_options(options);
  if (!ops::int8::isa_supported(isa, ops::int8::host_cpu_features()))
    return unavailable(std::string("cpu-int8: the ") + ops::int8::isa_name(isa) +
                       " kernels are not available on this CPU/build");
  auto plan = int8::build_int8_plan(*weights, ops::int8::int8_kernels_for(isa),
                                    [&file](const void* data, size_t bytes) { file.release_pages(data, bytes); });
  if (!plan.ok()) return plan.status();
  if (options.threads > 1) {
    auto pool = std::make_shared<cpu::ThreadPool>(options.threads);
    (*plan)->model.executor = pool.get();
    (*plan)->model.parallel_for = pool_parallel_for;
    (*plan)->executor_owner = pool;
  }
  return std::unique_ptr<Backend>(
      new Int8Backend(std::move(weights), std::shared_ptr<const int8::Int8Plan>(std::move(plan).value())));
}

}  // namespace tessera
