#include "tessera/tokenizer.h"

#include <algorithm>

namespace tessera {

Result<Tokenizer> Tokenizer::from_tokens(std::vector<std::string> tokens) {
  if (tokens.empty()) return invalid_argument("tokenizer: the model has no tokenizer tokens");
  Tokenizer t;
  t.tokens_ = std::move(tokens);
  for (size_t i = 0; i < t.tokens_.size(); ++i) {
    const std::string& s = t.tokens_[i];
    if (s.empty()) continue;          // special/unused ids
    t.index_.emplace(s, int32_t(i));  // the first id wins duplicates
    t.max_len_ = std::max(t.max_len_, s.size());
  }
  return t;
}

Result<std::vector<int32_t>> Tokenizer::encode(const std::string& text) const {
  std::vector<int32_t> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t best_len = 0;
    int32_t best = -1;
    for (size_t len = std::min(max_len_, text.size() - i); len > 0; --len) {
      auto it = index_.find(text.substr(i, len));
      if (it != index_.end()) {
        best_len = len;
        best = it->second;
        break;
      }
    }
    if (best < 0)
      return invalid_argument("tokenizer: no token covers the text at byte " + std::to_string(i) + " ('" +
                              text.substr(i, 1) + "')");
    out.push_back(best);
    i += best_len;
  }
  return out;
}

std::string Tokenizer::decode(int32_t id) const {
  if (id < 0 || size_t(id) >= tokens_.size()) return "";
  return tokens_[size_t(id)];
}

}  // namespace tessera
