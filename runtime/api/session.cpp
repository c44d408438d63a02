#include "api/model_impl.h"

namespace tessera {

class SessionImpl {
 public:
  std::shared_ptr<const ModelWeights> weights;  // keeps the model's tensors alive
  std::unique_ptr<BackendSequence> seq;
  std::vector<float> last_logits;
  int64_t vocab = 0;
  bool has_logits = false;

  Status check_tokens(std::span<const int32_t> tokens) const {
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] < 0 || tokens[i] >= vocab)
        return invalid_argument("token " + std::to_string(i) + " = " + std::to_string(tokens[i]) +
                                " is out of the vocabulary [0, " + std::to_string(vocab) + ")");
    return Status();
  }
};

Session::Session(std::unique_ptr<SessionImpl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::create(Model& model, const SessionOptions& options) {
  ModelImpl& m = model.impl();
  if (options.max_tokens < 0)
    return invalid_argument("SessionOptions.max_tokens must be >= 0, found " + std::to_string(options.max_tokens));
  const int64_t cap = options.max_tokens > 0 ? options.max_tokens : m.info.block_size;
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
}

Status Session::prefill(Span<const int32_t> tokens, Span<float> all_logits) {
  if (tokens.empty()) return invalid_argument("prefill: no tokens");
  TESSERA_RETURN_IF_ERROR(impl_->check_tokens(tokens));
  const size_t V = size_t(impl_->vocab);
  if (!all_logits.empty()) {
    if (all_logits.size() != tokens.size() * V)
      return invalid_argument("prefill: all_logits holds " + std::to_string(all_logits.size()) + " floats, expected " +
                              std::to_string(tokens.size()) + " x " + std::to_string(V));
    TESSERA_RETURN_IF_ERROR(impl_->seq->forward(tokens, all_logits, true));
    std::copy(all_logits.end() - std::ptrdiff_t(V), all_logits.end(), impl_->last_logits.begin());
  } else {
    TESSERA_RETURN_IF_ERROR(impl_->seq->forward(tokens, impl_->last_logits, false));
  }
  impl_->has_logits = true;
  return Status();
}

Status Session::decode(int32_t token) {
  const int32_t one[1] = {token};
  TESSERA_RETURN_IF_ERROR(impl_->check_tokens(one));
  TESSERA_RETURN_IF_ERROR(impl_->seq->forward(one, impl_->last_logits, false));
  impl_->has_logits = true;
  return Status();
}

Span<const float> Session::logits() const { return impl_->last_logits; }
int64_t Session::position() const { return impl_->seq->position(); }
int64_t Session::capacity() const { return impl_->seq->capacity(); }
void Session::reset() {
  impl_->seq->reset();
  impl_->has_logits = false;
}

}  // namespace tessera
