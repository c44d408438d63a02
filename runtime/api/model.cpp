#include <new>
#include <system_error>

#include "api/model_impl.h"
#include "backend/backend_factory.h"
#include "core/file_io.h"
#include "model/content_hash.h"

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
Result<size_t> Model::session_arena_bytes(int64_t max_tokens) const {
  TESSERA_ASSIGN_OR_RETURN(const int64_t cap, session_capacity(*impl_, max_tokens));
  return size_t(impl_->backend->sequence_arena_bytes(cap).value());
}

static Result<std::shared_ptr<Model>> finish_load(std::shared_ptr<const gguf::File> file, const LoadOptions& options) {
  if (options.threads < 1 || options.threads > kMaxThreads)
    return invalid_argument("LoadOptions.threads must be in 1.." + std::to_string(kMaxThreads) + ", found " +
                            std::to_string(options.threads));
  if (options.verify_checksum) TESSERA_RETURN_IF_ERROR(verify_content_hash(*file));
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

// Nothing thrown while loading (bad_alloc, system_error from starting threads) crosses the API.
template <class F>
static Result<std::shared_ptr<Model>> guarded_load(F&& load) {
  try {
    return load();
  } catch (const std::bad_alloc&) {
    return resource_exhausted("Model::load: out of memory");
  } catch (const std::system_error& e) {
    return resource_exhausted(std::string("Model::load: the system refused a resource: ") + e.what());
  } catch (const std::exception& e) {
    return internal_error(std::string("Model::load: unexpected exception: ") + e.what());
  }
}

Result<std::shared_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options) {
  return guarded_load([&]() -> Result<std::shared_ptr<Model>> {
    TESSERA_ASSIGN_OR_RETURN(gguf::File f, gguf::File::open(path));
    return finish_load(std::make_shared<const gguf::File>(std::move(f)), options);
  });
}

Result<std::shared_ptr<Model>> Model::load_from_memory(Span<const std::byte> bytes, const LoadOptions& options) {
  return guarded_load([&]() -> Result<std::shared_ptr<Model>> {
    TESSERA_ASSIGN_OR_RETURN(gguf::File f, gguf::File::parse(bytes, nullptr, "<memory>"));
    return finish_load(std::make_shared<const gguf::File>(std::move(f)), options);
  });
}

}  // namespace tessera
