#include "tasks/mqmtar_eval.h"

#include <algorithm>
#include <string>
#include <vector>

#include "tasks/mqmtar.h"

namespace tessera::tasks {
namespace {
int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());  // first on ties
}
}  // namespace

Status check_mqmtar_model(const ModelInfo& info) {
  if (info.vocab_size != kMqmtarVocabSize)
    return invalid_argument("the model's vocabulary has " + std::to_string(info.vocab_size) +
                            " ids but the mqmtar task needs " + std::to_string(kMqmtarVocabSize) +
                            " (0..258 task tokens, BOS 259, SEP 260, EOS 261, PAD 262)");
  if (!info.tokenizer_tokens.empty())
    return invalid_argument("the model carries a text tokenizer (" + std::to_string(info.tokenizer_tokens.size()) +
                            " tokens); mqmtar models use raw ids with BOS 259, SEP 260, EOS 261");
  return Status();
}

Result<MqmtarEvalResult> evaluate_mqmtar(Model& model, const MqmtarEvalOptions& options,
                                         const std::function<void(int, int)>& progress) {
  TESSERA_RETURN_IF_ERROR(check_mqmtar_model(model.info()));
  if (options.samples <= 0) return invalid_argument("samples must be > 0, got " + std::to_string(options.samples));
  Mqmtar task(mqmtar_eval_seed(options.seed, options.length));
  MqmtarEvalResult r;
  r.length = options.length;
  r.samples = options.samples;
  std::unique_ptr<Session> session;
  std::vector<int32_t> predicted(kMqmtarTargetTokens);
  for (int i = 0; i < options.samples; ++i) {
    TESSERA_ASSIGN_OR_RETURN(MqmtarSample s, task.sample(options.length));
    std::vector<int32_t> x = s.wrapped();
    x.pop_back();  // the model reads all but EOS
    const int64_t T = static_cast<int64_t>(x.size());
    if (!session || session->capacity() < T) {
      SessionOptions so;
      so.max_tokens = T;
      TESSERA_ASSIGN_OR_RETURN(session, Session::create(model, so));
    }
    session->reset();
    const int64_t first = T - kMqmtarTargetTokens;  // position whose prediction is the first target token
    TESSERA_RETURN_IF_ERROR(session->prefill(std::span<const int32_t>(x.data(), static_cast<size_t>(first + 1))));
    predicted[0] = argmax(session->logits());
    for (int k = 1; k < kMqmtarTargetTokens; ++k) {
      TESSERA_RETURN_IF_ERROR(session->decode(x[static_cast<size_t>(first + k)]));
      predicted[static_cast<size_t>(k)] = argmax(session->logits());
    }
    const MqmtarScore sc = mqmtar_score(predicted, s.target);
    r.tokens = static_cast<int>(T);
    r.pairs_right += sc.pairs_right;
    r.pairs += sc.pairs;
    r.exact += sc.exact ? 1 : 0;
    if (progress) progress(i + 1, options.samples);
  }
  return r;
}

}  // namespace tessera::tasks

namespace tessera::tasks {

Result<std::vector<int>> parse_mqmtar_lengths(const std::string& spec) {
  constexpr int kMinLength = 30, kMaxLength = 1 << 20;  // 4 queries need >= 4 pairs of 7 tokens; 1<<20: sanity
  std::vector<int> out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    const bool multiple = !item.empty() && (item.back() == 'x' || item.back() == 'X');
    const std::string digits = multiple ? item.substr(0, item.size() - 1) : item;
    long long v = 0;
    bool ok = !digits.empty() && digits.size() <= 9 && digits.find_first_not_of("0123456789") == std::string::npos;
    if (ok) v = std::stoll(digits) * (multiple ? kMqmtarEvalBaseLength : 1);
    if (!ok || v < kMinLength || v > kMaxLength)
      return invalid_argument("--lengths item '" + item + "': expected a multiple like 4x (1x = 64 tokens) or a " +
                              "token count, between " + std::to_string(kMinLength) + " and " +
                              std::to_string(kMaxLength) + " tokens");
    out.push_back(static_cast<int>(v));
    start = end + 1;
  }
  return out;
}

}  // namespace tessera::tasks
