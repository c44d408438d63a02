#include "api/model_impl.h"
#include "backend/backend_factory.h"
#include "core/file_io.h"

namespace tessera {

const char* backend_kind_name(BackendKind k) {
  switch (k) {
    case BackendKind::kAuto: return "auto";
    case BackendKind::kCpu: return "cpu";
    case BackendKind::kVulkan: return "vulkan";
    case BackendKind::kCpuInt8: return "cpu-int8";
  }
  return "?";
}

Result<BackendKind> parse_backend_kind(const std::string& s) {
  for (BackendKind k : {BackendKind::kAuto, BackendKind::kCpu, BackendKind::kVulkan, BackendKind::kCpuInt8})
    if (s == backend_kind_name(k)) return k;
  return invalid_argument("unknown backend '" + s + "': expected auto, cpu, vulkan or cpu-int8");
}

Model::Model(std::unique_ptr<ModelImpl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
const ModelInfo& Model::info() const { return impl_->info; }
size_t Model::session_arena_bytes(int64_t max_tokens) const {
  return impl_->backend->sequence_arena_bytes(max_tokens > 0 ? max_tokens : impl_->info.block_size);
}

static Result<std::shared_ptr<Model>> finish_load(std::shared_ptr<const gguf::File> file, const LoadOptions& options) {
  if (options.threads < 1) return invalid_argument("LoadOptions.threads must be >= 1, found " + std::to_string(options.threads));
  auto impl = std::make_unique<ModelImpl>();
  impl->file = file;
  TESSERA_ASSIGN_OR_RETURN(impl->weights, ModelWeights::from_gguf(file));
  TESSERA_ASSIGN_OR_RETURN(BackendChoice choice, make_backend(impl->weights, options));
  impl->backend = std::move(choice.backend);
  const HParams& hp = impl->weights->hparams();
  ModelInfo& info = impl->info;
  info.vocab_size = hp.vocab_size;
  info.n_embd = hp.n_embd;
  info.n_head = hp.n_head;
  info.n_layer = hp.n_layer;
  info.block_size = hp.block_size;
  info.pmem_size = hp.pmem_size;
  info.pmem_count = hp.pmem_count;
  info.method = hp.method;
  info.mask_offset = hp.mask_offset;
  info.backend_name = impl->backend->name();
  info.fallback_reason = choice.fallback_reason;
  info.tokenizer_tokens = impl->weights->tokenizer_tokens();
  return std::shared_ptr<Model>(new Model(std::move(impl)));
}

Result<std::shared_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(gguf::File f, gguf::File::open(path));
  return finish_load(std::make_shared<const gguf::File>(std::move(f)), options);
}

Result<std::shared_ptr<Model>> Model::load_from_memory(Span<const std::byte> bytes, const LoadOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(gguf::File f, gguf::File::parse(bytes, nullptr, "<memory>"));
  return finish_load(std::make_shared<const gguf::File>(std::move(f)), options);
}

}  // namespace tessera
