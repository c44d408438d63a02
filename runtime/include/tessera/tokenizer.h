// A vocabulary tokenizer for models that store their tokens in the GGUF (tokenizer.ggml.tokens):
// greedy longest match over the token strings (character- or byte-level models).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tessera/status.h"

namespace tessera {

class Tokenizer {
 public:
  static Result<Tokenizer> from_tokens(std::vector<std::string> tokens);
  // Fails on text that no token covers, naming the byte offset and the character.
  Result<std::vector<int32_t>> encode(const std::string& text) const;
  std::string decode(int32_t id) const;  // "" for ids out of range
  size_t size() const { return tokens_.size(); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> index_;
  size_t max_len_ = 0;
};

}  // namespace tessera
