// Every public header, compiled alone by the test public_headers_cxx17 / _cxx20 with -Wall -Wextra -Werror
// -pedantic: the C++ API must build as C++17 as well as C++20, with nothing but include/.
#include "tessera/attention.h"
#include "tessera/export.h"
#include "tessera/span.h"
#include "tessera/status.h"
#include "tessera/tessera.h"
#include "tessera/tessera_c.h"
#include "tessera/tokenizer.h"

#include <array>
#include <vector>

// The API's views accept the usual containers without copies.
int public_headers_use(tessera::Session& session, tessera::Sampler& sampler) {
  std::vector<int32_t> tokens{1, 2, 3};
  std::array<std::byte, 64> arena{};
  tessera::SessionOptions options;
  options.arena = arena;
  const int32_t one[1] = {4};
  if (!session.prefill(tokens).ok() || !session.prefill(one).ok()) return -1;
  return sampler.sample(session.logits()) + int(options.arena.size());
}
