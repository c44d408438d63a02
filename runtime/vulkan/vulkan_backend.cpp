#include "vulkan/vulkan_backend.h"

#include <cstring>

#include "vulkan/device_profile.h"
#include "vulkan/model_view.h"
#include "vulkan/shader_variants.h"
#include "vulkan/vulkan_backend_impl.h"

namespace tessera {
namespace vk {

VulkanSequence::VulkanSequence(std::shared_ptr<BackendShared> shared, std::unique_ptr<SequenceState> state)
    : shared_(std::move(shared)), state_(std::move(state)) {}

VulkanSequence::~VulkanSequence() {
  std::lock_guard lock(shared_->device_mutex);
  recordings_.clear();
  state_.reset();
}

std::string VulkanBackend::name() const {
  const Context& c = *shared_->context;
  const std::string& profile = c.limits().profile;
  return "vulkan (" + c.info().name + (profile == "full" ? "" : ", profile " + profile) + ")";
}

// Positions are uint32 in the shaders' step record and index 32-bit dispatch grids.
int64_t VulkanBackend::max_sequence_positions() const { return int64_t(1) << 24; }

// Per position: the key and value caches of every layer (F16 or float elements) and the attention score rows (one
// float per position for each of the kAttentionRowsPerPass rows and heads, at most); plus the
// activations of rows_per_forward(C) rows and the logits of kMaxLogitRows rows (device and readback).
CheckedSize VulkanBackend::sequence_state_bytes(int64_t max_tokens) const {
  const HParams& hp = shared_->model->hp;
  const CheckedSize C = CheckedSize::of(hp.n_embd), L = CheckedSize::of(hp.n_layer);
  const CheckedSize H = CheckedSize::of(hp.n_head), V = CheckedSize::of(hp.vocab_size),
                    R(rows_per_forward(uint64_t(hp.n_embd)));
  const CheckedSize AR(kAttentionRowsPerPass), LR(kMaxLogitRows);
  const CheckedSize per_position = L * C * (shared_->context->kv_cache_f16() ? 4 : 8) + AR * H * 4;
  const CheckedSize fixed = R * C * 16 + LR * C * 4 + L * C * 12 + LR * V * 8;
  return CheckedSize::of(max_tokens) * per_position + fixed;
}

Result<std::unique_ptr<BackendSequence>> VulkanBackend::new_sequence(int64_t max_tokens) {
  std::lock_guard lock(shared_->device_mutex);
  TESSERA_ASSIGN_OR_RETURN(auto state, make_sequence_state(*shared_->context, *shared_->model, uint32_t(max_tokens)));
  return std::unique_ptr<BackendSequence>(new VulkanSequence(shared_, std::move(state)));
}

Result<Recording*> VulkanSequence::recording(uint32_t n, LogitsMode mode) {
  auto key = std::make_pair(n, int(mode));
  auto it = recordings_.find(key);
  if (it != recordings_.end()) return it->second.get();
  Context& ctx = *shared_->context;
  TESSERA_ASSIGN_OR_RETURN(auto rec, Recording::create(ctx, 2, profiling_));
  TESSERA_RETURN_IF_ERROR(record_forward(*rec, ctx, *shared_->model, *state_, n, mode));
  Recording* out = rec.get();
  recordings_.emplace(key, std::move(rec));
  return out;
}

Status VulkanSequence::run(std::span<const int32_t> tokens, std::span<float> logits, bool all_rows, bool copy_logits) {
  std::lock_guard lock(shared_->device_mutex);
  const size_t V = size_t(shared_->model->hp.vocab_size);
  for (size_t done = 0; done < tokens.size();) {
    const size_t most = (copy_logits && all_rows) ? kMaxLogitRows : state_->rows_per_forward;
    uint32_t n = uint32_t(std::min<size_t>(most, tokens.size() - done));
    bool last = done + n == tokens.size();
    LogitsMode mode = (copy_logits && all_rows) ? LogitsMode::kAll
                      : !last                   ? LogitsMode::kNone
                      : copy_logits             ? LogitsMode::kLast
                                                : LogitsMode::kGreedy;
    TESSERA_ASSIGN_OR_RETURN(Recording * rec, recording(n, mode));
    uint32_t step[2] = {uint32_t(position_), n};
    std::memcpy(state_->step.mapped, step, sizeof step);
    std::memcpy(state_->tokens.mapped, tokens.data() + done, n * sizeof(int32_t));
    TESSERA_RETURN_IF_ERROR(rec->submit());
    last_ = rec;
    position_ += n;
    if (copy_logits && mode == LogitsMode::kAll)
      TESSERA_RETURN_IF_ERROR(
          shared_->context->read(state_->logits_host, std::as_writable_bytes(logits.subspan(done * V, n * V))));
    else if (copy_logits && mode == LogitsMode::kLast)
      TESSERA_RETURN_IF_ERROR(
          shared_->context->read(state_->logits_host, std::as_writable_bytes(logits.subspan(0, V))));
    done += n;
  }
  return Status::ok_status();
}

Status VulkanSequence::forward(std::span<const int32_t> tokens, std::span<float> logits, bool all_rows) {
  return run(tokens, logits, all_rows, true);
}

// Not reached through a Session (tests and benchmarks call it directly), so it makes the capacity
// check a Session would have made: the shaders would write past the caches.
Status VulkanSequence::forward_greedy(std::span<const int32_t> tokens) {
  if (tokens.empty() || position_ + int64_t(tokens.size()) > int64_t(state_->capacity))
    return out_of_range("vulkan: forward_greedy of " + std::to_string(tokens.size()) + " tokens at position " +
                        std::to_string(position_) + " in a sequence of " + std::to_string(state_->capacity));
  return run(tokens, {}, false, false);
}

int32_t VulkanSequence::greedy_token() const {
  uint32_t t = 0;
  std::memcpy(&t, state_->greedy.mapped, 4);
  return int32_t(t);
}

Result<double> VulkanSequence::last_gpu_ns() const {
  if (!last_) return unavailable("vulkan: nothing ran yet");
  return last_->elapsed_ns(0, 1);
}

void VulkanSequence::reset() {
  std::lock_guard lock(shared_->device_mutex);
  position_ = 0;
  // The caches are overwritten as positions refill; only the recurrent states restart at 0.
  Status s = shared_->context->fill_zero(state_->states);
  (void)s;
}

Result<std::unique_ptr<VulkanBackend>> make_backend_from_view(const ModelView& view, const ContextOptions& options,
                                                              std::shared_ptr<const void> keep_alive,
                                                              bool reject_cpu_device) {
  auto shared = std::make_shared<BackendShared>();
  shared->keep_alive = std::move(keep_alive);
  TESSERA_ASSIGN_OR_RETURN(shared->context, Context::create(options));
  if (reject_cpu_device && shared->context->info().type == VK_PHYSICAL_DEVICE_TYPE_CPU)
    return unavailable("the only Vulkan device is a CPU implementation (" + shared->context->info().name + ")");
  TESSERA_ASSIGN_OR_RETURN(shared->model, upload_model(*shared->context, view));
  TESSERA_RETURN_IF_ERROR(shared->context->save_pipeline_cache());
  return std::make_unique<VulkanBackend>(std::move(shared));
}

ContextOptions context_options(const LoadOptions& o) {
  ContextOptions c;
  c.device_index = o.vulkan_device_index;
  c.device_name = o.vulkan_device_name;
  c.force_staging = o.vulkan_force_staging;
  c.pipeline_cache_path = o.vulkan_pipeline_cache;
  c.validation = o.vulkan_validation;
  if (!o.vulkan_profile.empty()) c.profile = o.vulkan_profile;
  if (!o.vulkan_kv_cache.empty()) c.kv_cache = o.vulkan_kv_cache;
  return c;
}

}  // namespace vk

Result<std::unique_ptr<Backend>> make_vulkan_backend(std::shared_ptr<const ModelWeights> weights,
                                                     const LoadOptions& options) {
  if (!weights) return invalid_argument("vulkan: no model");
  vk::ModelView view = vk::ModelView::of(*weights);
  // kAuto: a software implementation (llvmpipe) is slower than the native CPU runtime; use it only
  // when asked for by name, index or BackendKind::kVulkan.
  const bool reject_cpu = options.backend == BackendKind::kAuto && options.vulkan_device_index < 0 &&
                          options.vulkan_device_name.empty();
  TESSERA_ASSIGN_OR_RETURN(auto backend,
                           vk::make_backend_from_view(view, vk::context_options(options), weights, reject_cpu));
  return std::unique_ptr<Backend>(std::move(backend));
}

Result<std::vector<std::string>> list_vulkan_devices() {
  TESSERA_ASSIGN_OR_RETURN(auto instance, vk::Instance::create(false));
  TESSERA_ASSIGN_OR_RETURN(auto devices, vk::enumerate_devices(instance->handle()));
  std::vector<std::string> out;
  for (size_t i = 0; i < devices.size(); ++i) {
    const auto& d = devices[i];
    std::string line = std::to_string(i) + ": " + d.name + " (" + d.type_name() + ", subgroup " +
                       std::to_string(d.subgroup_size) + ")";
    if (!d.usable) line += " [unusable: " + d.unusable_reason + "]";
    // Optional GLSL features: a gated shader variant runs only where both say yes.
    line += "\n   optional GLSL features: " + vk::describe_glsl_features(d.shader_features);
    line += std::string("\n   kernels: ") +
            (d.subgroup_ops ? "subgroup flavour" : "shared-memory flavour (no subgroup arithmetic + shuffle)");
    // Which device-limits profiles (--vulkan-profile) it meets, and else the first limit that fails.
    line += "\n   profiles:";
    for (const auto& p : vk::device_profiles()) {
      auto why = vk::profile_shortfall(d, p);
      auto note = vk::profile_deviation(d, p);
      line += " " + std::string(p.name) + (why ? " no (" + *why + ");" : note ? " yes (" + *note + ");" : " yes;");
    }
    line.pop_back();
    out.push_back(line);
  }
  return out;
}

}  // namespace tessera
