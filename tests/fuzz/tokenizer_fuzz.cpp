// libFuzzer target for the vocabulary tokenizer (runtime/api/tokenizer.cpp). The input is a vocabulary
// (tokens separated by '\n', up to the first NUL byte) followed by a text. Any vocabulary and text must
// give a Status or ids that decode back to exactly the text; decode() of any id must be safe.
#include <cstdlib>
#include <string>
#include <vector>

#include "tessera/tokenizer.h"

using namespace tessera;

static void require(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string vocabulary = input.substr(0, split);
  const std::string text = split == std::string::npos ? std::string() : input.substr(split + 1);
  std::vector<std::string> tokens;
  size_t begin = 0;
  for (;;) {
    const size_t nl = vocabulary.find('\n', begin);
    tokens.push_back(vocabulary.substr(begin, nl == std::string::npos ? std::string::npos : nl - begin));
    if (nl == std::string::npos) break;
    begin = nl + 1;
  }
  auto tok = Tokenizer::from_tokens(tokens);
  if (!tok.ok()) {
    require(!tok.status().message().empty());
    return 0;
  }
  require(tok->size() == tokens.size());
  for (int32_t id : {-1, int32_t(tokens.size()), int32_t(0x7fffffff), int32_t(-0x7fffffff - 1)})
    require(tok->decode(id).empty());
  auto ids = tok->encode(text);
  if (!ids.ok()) {
    require(!ids.status().message().empty());
    return 0;
  }
  std::string round_trip;
  for (int32_t id : *ids) {
    require(id >= 0 && size_t(id) < tokens.size());
    require(!tokens[size_t(id)].empty());
    round_trip += tok->decode(id);
  }
  require(round_trip == text);
  return 0;
}
