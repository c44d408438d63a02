// The C API: translates Status into codes + a thread-local message; never lets C++ types leak.
#include "tessera/tessera_c.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tessera/tessera.h"
#include "tessera/tokenizer.h"

struct tessera_model {
  std::shared_ptr<tessera::Model> model;
  std::optional<tessera::Tokenizer> tokenizer;  // built at load when the file has tokens
};
struct tessera_session {
  std::unique_ptr<tessera::Session> session;
};
struct tessera_sampler {
  tessera::Sampler sampler;
};

namespace {

thread_local std::string g_last_error;

tessera_status report(const tessera::Status& st) {
  if (st.ok()) return TESSERA_OK;
  g_last_error = st.to_string();
  return static_cast<tessera_status>(static_cast<int>(st.code()));
}

tessera_status null_argument(const char* what) {
  return report(tessera::invalid_argument(std::string(what) + " must not be NULL"));
}

// An options struct from a caller built against another header version: `struct_size` tells how much
// of it the caller has; the rest keeps the defaults.
template <typename T>
tessera_status read_options(const T* given, T defaults, const char* what, T* out) {
  *out = defaults;
  if (!given) return TESSERA_OK;
  const size_t size = given->struct_size;
  if (size < sizeof(size_t) || size > (size_t(1) << 16))
    return report(tessera::invalid_argument(std::string(what) +
                                            ".struct_size: expected the value its "
                                            "tessera_default_* function sets, found " +
                                            std::to_string(given->struct_size)));
  std::memcpy(out, given, std::min(size, sizeof(T)));
  out->struct_size = sizeof(T);
  return TESSERA_OK;
}

tessera_status to_load_options(const tessera_load_options* options, tessera::LoadOptions* lo) {
  tessera_load_options o;
  if (auto st = read_options(options, tessera_default_load_options(), "tessera_load_options", &o)) return st;
  switch (o.backend) {
    case TESSERA_BACKEND_AUTO: lo->backend = tessera::BackendKind::kAuto; break;
    case TESSERA_BACKEND_CPU: lo->backend = tessera::BackendKind::kCpu; break;
    case TESSERA_BACKEND_VULKAN: lo->backend = tessera::BackendKind::kVulkan; break;
    case TESSERA_BACKEND_CPU_INT8: lo->backend = tessera::BackendKind::kCpuInt8; break;
    default:
      return report(
          tessera::invalid_argument("tessera_load_options.backend: unknown backend " + std::to_string(int(o.backend))));
  }
  lo->threads = o.threads;
  lo->vulkan_device_index = o.vulkan_device_index;
  if (o.vulkan_device_name) lo->vulkan_device_name = o.vulkan_device_name;
  if (o.vulkan_profile) lo->vulkan_profile = o.vulkan_profile;
  if (o.vulkan_kv_cache) lo->vulkan_kv_cache = o.vulkan_kv_cache;
  return TESSERA_OK;
}

tessera_status finish_model_load(tessera::Result<std::shared_ptr<tessera::Model>> m, tessera_model** out) {
  if (!m.ok()) return report(m.status());
  auto model = std::make_unique<tessera_model>();
  model->model = std::move(m).value();
  if (!model->model->info().tokenizer_tokens.empty()) {
    auto t = tessera::Tokenizer::from_tokens(model->model->info().tokenizer_tokens);
    if (!t.ok()) return report(t.status());
    model->tokenizer = std::move(t).value();
  }
  *out = model.release();
  return TESSERA_OK;
}

// The device list, enumerated once per process (enumeration creates a Vulkan instance).
const std::vector<std::string>& devices() {
  static std::once_flag once;
  static std::vector<std::string> list;
  std::call_once(once, [] {
    auto d = tessera::list_vulkan_devices();
    if (d.ok()) list = std::move(d).value();
  });
  return list;
}

}  // namespace

extern "C" {

tessera_load_options tessera_default_load_options(void) {
  return {sizeof(tessera_load_options), TESSERA_BACKEND_AUTO, 1, -1, nullptr, nullptr, nullptr};
}
tessera_session_options tessera_default_session_options(void) {
  return {sizeof(tessera_session_options), 0, nullptr, 0};
}
tessera_sampler_params tessera_default_sampler_params(void) {
  return {sizeof(tessera_sampler_params), 0.0f, 1.0f, 0, 0};
}

const char* tessera_last_error(void) { return g_last_error.c_str(); }

tessera_status tessera_device_count(int* count) {
  if (!count) return null_argument("count");
  *count = int(devices().size());
  return TESSERA_OK;
}

const char* tessera_device_name(int index) {
  const auto& d = devices();
  return index >= 0 && size_t(index) < d.size() ? d[size_t(index)].c_str() : nullptr;
}

tessera_status tessera_model_load(const char* path, const tessera_load_options* options, tessera_model** out) {
  if (!path) return null_argument("path");
  if (!out) return null_argument("out");
  *out = nullptr;
  tessera::LoadOptions lo;
  if (auto st = to_load_options(options, &lo)) return st;
  return finish_model_load(tessera::Model::load(path, lo), out);
}

tessera_status tessera_model_load_from_memory(const void* data, size_t size, const tessera_load_options* options,
                                              tessera_model** out) {
  if (!data && size) return null_argument("data");
  if (!out) return null_argument("out");
  *out = nullptr;
  tessera::LoadOptions lo;
  if (auto st = to_load_options(options, &lo)) return st;
  return finish_model_load(tessera::Model::load_from_memory({static_cast<const std::byte*>(data), size}, lo), out);
}

void tessera_model_free(tessera_model* model) { delete model; }

int64_t tessera_model_vocab_size(const tessera_model* model) { return model ? model->model->info().vocab_size : 0; }

const char* tessera_model_backend_name(const tessera_model* model) {
  return model ? model->model->info().backend_name.c_str() : "";
}

tessera_status tessera_model_session_arena_bytes(const tessera_model* model, int64_t max_tokens, size_t* bytes) {
  if (!model) return null_argument("model");
  if (!bytes) return null_argument("bytes");
  *bytes = 0;
  auto n = model->model->session_arena_bytes(max_tokens);
  if (!n.ok()) return report(n.status());
  *bytes = *n;
  return TESSERA_OK;
}

tessera_status tessera_tokenize(const tessera_model* model, const char* text, size_t length, int32_t* tokens,
                                size_t capacity, size_t* n_tokens) {
  if (!model) return null_argument("model");
  if (!text && length) return null_argument("text");
  if (!tokens && capacity) return null_argument("tokens");
  if (!n_tokens) return null_argument("n_tokens");
  *n_tokens = 0;
  if (!model->tokenizer) return report(tessera::unsupported("the model file has no tokenizer (tokenizer.ggml.tokens)"));
  auto ids = model->tokenizer->encode(std::string(text ? text : "", length));
  if (!ids.ok()) return report(ids.status());
  *n_tokens = ids->size();
  if (ids->size() > capacity)
    return report(tessera::out_of_range("the text needs " + std::to_string(ids->size()) + " tokens, the buffer holds " +
                                        std::to_string(capacity)));
  std::copy(ids->begin(), ids->end(), tokens);
  return TESSERA_OK;
}

const char* tessera_token_text(const tessera_model* model, int32_t token, size_t* length) {
  if (length) *length = 0;
  if (!model) return nullptr;
  const auto& tokens = model->model->info().tokenizer_tokens;
  if (token < 0 || size_t(token) >= tokens.size()) return nullptr;
  if (length) *length = tokens[size_t(token)].size();
  return tokens[size_t(token)].data();
}

tessera_status tessera_session_create(tessera_model* model, int64_t max_tokens, tessera_session** out) {
  tessera_session_options o = tessera_default_session_options();
  o.max_tokens = max_tokens;
  return tessera_session_create_with_options(model, &o, out);
}

tessera_status tessera_session_create_with_options(tessera_model* model, const tessera_session_options* options,
                                                   tessera_session** out) {
  if (!model) return null_argument("model");
  if (!out) return null_argument("out");
  *out = nullptr;
  tessera_session_options o;
  if (auto st = read_options(options, tessera_default_session_options(), "tessera_session_options", &o)) return st;
  if (!o.arena && o.arena_size) return null_argument("tessera_session_options.arena (arena_size > 0)");
  tessera::SessionOptions so;
  so.max_tokens = o.max_tokens;
  so.arena = {static_cast<std::byte*>(o.arena), o.arena ? o.arena_size : 0};
  auto s = tessera::Session::create(*model->model, so);
  if (!s.ok()) return report(s.status());
  *out = new tessera_session{std::move(s).value()};
  return TESSERA_OK;
}

void tessera_session_free(tessera_session* session) { delete session; }

tessera_status tessera_session_prefill(tessera_session* session, const int32_t* tokens, size_t n) {
  if (!session) return null_argument("session");
  if (!tokens && n) return null_argument("tokens");
  return report(session->session->prefill({tokens, n}));
}

tessera_status tessera_session_decode(tessera_session* session, int32_t token) {
  if (!session) return null_argument("session");
  return report(session->session->decode(token));
}

const float* tessera_session_logits(const tessera_session* session) {
  return session ? session->session->logits().data() : nullptr;
}

void tessera_session_reset(tessera_session* session) {
  if (session) session->session->reset();
}

int32_t tessera_argmax(const float* logits, int64_t n) {
  if (!logits || n <= 0) return -1;
  int32_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = int32_t(i);
  return best;
}

tessera_status tessera_sampler_create(const tessera_sampler_params* params, tessera_sampler** out) {
  if (!out) return null_argument("out");
  *out = nullptr;
  tessera_sampler_params p;
  if (auto st = read_options(params, tessera_default_sampler_params(), "tessera_sampler_params", &p)) return st;
  tessera::SamplingParams sp;
  sp.temperature = p.temperature;
  sp.top_p = p.top_p;
  sp.top_k = p.top_k;
  sp.seed = p.seed;
  auto sampler = tessera::Sampler::create(sp);
  if (!sampler.ok()) return report(sampler.status());
  *out = new tessera_sampler{std::move(sampler).value()};
  return TESSERA_OK;
}

tessera_status tessera_sampler_sample(tessera_sampler* sampler, const float* logits, int64_t n, int32_t* token) {
  if (!sampler) return null_argument("sampler");
  if (!logits) return null_argument("logits");
  if (!token) return null_argument("token");
  if (n <= 0)
    return report(tessera::invalid_argument("tessera_sampler_sample: n must be > 0, found " + std::to_string(n)));
  *token = sampler->sampler.sample({logits, size_t(n)});
  return TESSERA_OK;
}

void tessera_sampler_free(tessera_sampler* sampler) { delete sampler; }

}  // extern "C"
