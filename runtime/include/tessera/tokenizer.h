/// @file
/// A vocabulary tokenizer for models that store their tokens in the GGUF (tokenizer.ggml.tokens):
/// greedy longest match over the token strings (character- or byte-level models).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tessera/export.h"
#include "tessera/status.h"

namespace tessera {

/// Text to token ids and back, by greedy longest match over a model's token strings (ModelInfo::tokenizer_tokens).
class TESSERA_API Tokenizer {
 public:
  /// A tokenizer over `tokens` (id = index; empty strings are never produced, the first of duplicates
  /// wins); kInvalidArgument when `tokens` is empty.
  static Result<Tokenizer> from_tokens(std::vector<std::string> tokens);
  /// The ids of `text`; fails on text that no token covers, naming the byte offset and the character.
  Result<std::vector<int32_t>> encode(const std::string& text) const;
  /// The string of token `id`; "" for ids out of range.
  std::string decode(int32_t id) const;
  /// The number of tokens.
  size_t size() const { return tokens_.size(); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> index_;
  size_t max_len_ = 0;
};

}  // namespace tessera
