// The Session owns every request check (capacity, token range, logits size, resources); the
// backends below it trust them. Nothing thrown below (bad_alloc from a std::vector, system_error
// from a thread) crosses this API: it becomes a Status.
#include <new>
#include <system_error>

#include "api/model_impl.h"

namespace tessera {

class SessionImpl {
 public:
  std::shared_ptr<const ModelWeights> weights;  // keeps the model's tensors alive
  std::unique_ptr<BackendSequence> seq;
  std::vector<float> last_logits;
  int64_t vocab = 0;

  Status check_request(const char* call, std::span<const int32_t> tokens) const {
    if (tokens.empty()) return invalid_argument(std::string(call) + ": no tokens");
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] < 0 || tokens[i] >= vocab)
        return invalid_argument(std::string(call) + ": token " + std::to_string(i) + " = " + std::to_string(tokens[i]) +
                                " is out of the vocabulary [0, " + std::to_string(vocab) + ")");
    const int64_t pos = seq->position(), cap = seq->capacity();
    if (int64_t(tokens.size()) > cap - pos)
      return out_of_range(std::string(call) + ": context full: position " + std::to_string(pos) + " + " +
                          std::to_string(tokens.size()) + " tokens exceeds the session capacity of " +
                          std::to_string(cap) + " (create the session with a larger max_tokens)");
    return Status();
  }
};

// Runs `f`, turning an exception that escaped the backend into a Status.
template <class F>
static auto guarded(const char* call, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return resource_exhausted(std::string(call) + ": out of memory");
  } catch (const std::system_error& e) {
    return resource_exhausted(std::string(call) + ": the system refused a resource: " + e.what());
  } catch (const std::exception& e) {
    return internal_error(std::string(call) + ": unexpected exception: " + e.what());
  } catch (...) {
    return internal_error(std::string(call) + ": unexpected exception");
  }
}

Session::Session(std::unique_ptr<SessionImpl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Result<int64_t> session_capacity(const ModelImpl& m, int64_t max_tokens) {
  if (max_tokens < 0)
    return invalid_argument("SessionOptions.max_tokens must be >= 0 (0: the model's context of " +
                            std::to_string(m.info.block_size) + "), found " + std::to_string(max_tokens));
  const int64_t cap = max_tokens > 0 ? max_tokens : m.info.block_size;
  const int64_t most = m.backend->max_sequence_positions();
  if (cap > most)
    return resource_exhausted("a session of " + std::to_string(cap) + " positions" +
                              (max_tokens > 0 ? "" : " (the model's context_length)") + " exceeds the " +
                              std::to_string(most) + " the " + m.backend->name() + " backend supports");
  TESSERA_RETURN_IF_ERROR(check_memory_request(m.backend->sequence_state_bytes(cap),
                                               "a session of " + std::to_string(cap) + " positions" +
                                                   (max_tokens > 0 ? "" : " (the model's context_length)") + " on " +
                                                   m.backend->name()));
  return cap;
}

Result<std::unique_ptr<Session>> Session::create(Model& model, const SessionOptions& options) {
  ModelImpl& m = model.impl();
  TESSERA_ASSIGN_OR_RETURN(const int64_t cap, session_capacity(m, options.max_tokens));
  if (!options.arena.empty()) {
    const CheckedSize need = m.backend->sequence_arena_bytes(cap);
    if (need.value() == 0)
      return unsupported(m.backend->name() + " does not take a caller-supplied arena (SessionOptions.arena)");
    if (options.arena.size() < need.value())
      return invalid_argument("SessionOptions.arena holds " + std::to_string(options.arena.size()) + " bytes, " +
                              std::to_string(need.value()) + " needed for " + std::to_string(cap) + " positions");
  }
  return guarded("Session::create", [&]() -> Result<std::unique_ptr<Session>> {
    auto impl = std::make_unique<SessionImpl>();
    impl->weights = m.weights;
    impl->vocab = m.info.vocab_size;
    impl->last_logits.assign(size_t(impl->vocab), 0.0f);
    if (!options.arena.empty()) {
      TESSERA_ASSIGN_OR_RETURN(impl->seq, m.backend->new_sequence_in(cap, options.arena));
    } else {
      TESSERA_ASSIGN_OR_RETURN(impl->seq, m.backend->new_sequence(cap));
    }
    return std::unique_ptr<Session>(new Session(std::move(impl)));
  });
}

Status Session::prefill(Span<const int32_t> tokens, Span<float> all_logits) {
  TESSERA_RETURN_IF_ERROR(impl_->check_request("prefill", tokens));
  const size_t V = size_t(impl_->vocab);
  if (!all_logits.empty() && (all_logits.size() / V != tokens.size() || all_logits.size() % V != 0))
    return invalid_argument("prefill: all_logits holds " + std::to_string(all_logits.size()) + " floats, expected " +
                            std::to_string(tokens.size()) + " x " + std::to_string(V));
  return guarded("prefill", [&]() -> Status {
    if (all_logits.empty()) return impl_->seq->forward(tokens, impl_->last_logits, false);
    TESSERA_RETURN_IF_ERROR(impl_->seq->forward(tokens, all_logits, true));
    std::copy(all_logits.end() - std::ptrdiff_t(V), all_logits.end(), impl_->last_logits.begin());
    return Status();
  });
}

Status Session::decode(int32_t token) {
  const int32_t one[1] = {token};
  TESSERA_RETURN_IF_ERROR(impl_->check_request("decode", one));
  return guarded("decode", [&]() -> Status { return impl_->seq->forward(one, impl_->last_logits, false); });
}

Span<const float> Session::logits() const { return impl_->last_logits; }
int64_t Session::position() const { return impl_->seq->position(); }
int64_t Session::capacity() const { return impl_->seq->capacity(); }
void Session::reset() { impl_->seq->reset(); }

}  // namespace tessera
