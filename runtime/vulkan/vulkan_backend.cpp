#include "vulkan/vulkan_backend.h"

#include <cstring>

#include "vulkan/model_view.h"
#include "vulkan/shader_variants.h"
#include "vulkan/vulkan_backend_impl.h"

namespace tessera {
namespace vk {

VulkanSequence::VulkanSequence(std::shared_ptr<BackendShared> shared, std::unique_ptr<SequenceState> state)
    : shared_(std::move(shared)), state_(std::move(state)) {}

VulkanSequence::~VulkanSequence() {
  recordings_.clear();
  state_.reset();
}

std::string VulkanBackend::name() const { return "vulkan (" + shared_->context->info().name + ")"; }

Result<std::unique_ptr<BackendSequence>> VulkanBackend::new_sequence(int64_t max_tokens) {
  if (max_tokens <= 0 || max_tokens > (int64_t(1) << 24))
    return invalid_argument("vulkan: max_tokens must be in [1, 2^24], got " + std::to_string(max_tokens));
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
  const size_t V = size_t(shared_->model->hp.vocab_size);
  if (tokens.empty()) return invalid_argument("vulkan: forward needs at least one token");
  if (position_ + int64_t(tokens.size()) > int64_t(state_->capacity))
    return out_of_range("vulkan: the sequence holds " + std::to_string(state_->capacity) + " tokens; " +
                        std::to_string(position_) + " used, " + std::to_string(tokens.size()) + " more fed");
  if (copy_logits && logits.size() < (all_rows ? tokens.size() * V : V))
    return invalid_argument("vulkan: logits span too small");
  for (size_t done = 0; done < tokens.size();) {
    const size_t most = (copy_logits && all_rows) ? kMaxLogitRows : kMaxRowsPerForward;
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
      TESSERA_RETURN_IF_ERROR(shared_->context->read(state_->logits_host,
                                                     std::as_writable_bytes(logits.subspan(done * V, n * V))));
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

Status VulkanSequence::forward_greedy(std::span<const int32_t> tokens) { return run(tokens, {}, false, false); }

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
    out.push_back(line);
  }
  return out;
}

}  // namespace tessera
