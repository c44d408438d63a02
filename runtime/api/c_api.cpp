// The C API: translates Status into codes + a thread-local message; never lets C++ types leak.
#include "tessera/tessera_c.h"

#include <memory>
#include <string>

#include "tessera/tessera.h"

struct tessera_model {
  std::shared_ptr<tessera::Model> model;
};
struct tessera_session {
  std::unique_ptr<tessera::Session> session;
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

}  // namespace

extern "C" {

tessera_load_options tessera_default_load_options(void) { return {TESSERA_BACKEND_AUTO, 1, -1, nullptr}; }

const char* tessera_last_error(void) { return g_last_error.c_str(); }

tessera_status tessera_model_load(const char* path, const tessera_load_options* options, tessera_model** out) {
  if (!path) return null_argument("path");
  if (!out) return null_argument("out");
  *out = nullptr;
  const tessera_load_options o = options ? *options : tessera_default_load_options();
  tessera::LoadOptions lo;
  switch (o.backend) {
    case TESSERA_BACKEND_AUTO: lo.backend = tessera::BackendKind::kAuto; break;
    case TESSERA_BACKEND_CPU: lo.backend = tessera::BackendKind::kCpu; break;
    case TESSERA_BACKEND_VULKAN: lo.backend = tessera::BackendKind::kVulkan; break;
    case TESSERA_BACKEND_CPU_INT8: lo.backend = tessera::BackendKind::kCpuInt8; break;
    default: return report(tessera::invalid_argument("unknown backend " + std::to_string(int(o.backend))));
  }
  lo.threads = o.threads;
  lo.vulkan_device_index = o.vulkan_device_index;
  if (o.vulkan_profile) lo.vulkan_profile = o.vulkan_profile;
  auto m = tessera::Model::load(path, lo);
  if (!m.ok()) return report(m.status());
  *out = new tessera_model{std::move(m).value()};
  return TESSERA_OK;
}

void tessera_model_free(tessera_model* model) { delete model; }

int64_t tessera_model_vocab_size(const tessera_model* model) { return model ? model->model->info().vocab_size : 0; }

const char* tessera_model_backend_name(const tessera_model* model) {
  return model ? model->model->info().backend_name.c_str() : "";
}

tessera_status tessera_session_create(tessera_model* model, int64_t max_tokens, tessera_session** out) {
  if (!model) return null_argument("model");
  if (!out) return null_argument("out");
  *out = nullptr;
  tessera::SessionOptions so;
  so.max_tokens = max_tokens;
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

}  // extern "C"
