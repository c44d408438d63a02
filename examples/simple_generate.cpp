// The smallest useful program embedding Tessera: load a model, prefill a prompt, decode greedily.
//   ./build/tessera convert tests/data/authors/ds-regular-epanechnikov/ckpt.pt /tmp/fixture.gguf
//   ./build/examples/simple_generate /tmp/fixture.gguf 18 37 98 31
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tessera/tessera.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.gguf TOKEN [TOKEN ...]\n", argv[0]);
    return 2;
  }
  tessera::LoadOptions options;
  options.backend = tessera::BackendKind::kAuto;  // Vulkan when a device exists, else CPU
  auto model = tessera::Model::load(argv[1], options);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().to_string().c_str());
    return 1;
  }
  std::vector<int32_t> prompt;
  for (int i = 2; i < argc; ++i) prompt.push_back(int32_t(std::atoi(argv[i])));
  const int new_tokens = 16;
  auto session = tessera::Session::create(**model, {.max_tokens = int64_t(prompt.size()) + new_tokens});
  if (!session.ok()) {
    std::fprintf(stderr, "%s\n", session.status().to_string().c_str());
    return 1;
  }
  if (auto st = (*session)->prefill(prompt); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 1;
  }
  tessera::Sampler greedy({});
  std::printf("backend %s:", (*model)->info().backend_name.c_str());
  for (int i = 0; i < new_tokens; ++i) {
    const int32_t tok = greedy.sample((*session)->logits());
    std::printf(" %d", tok);
    if (i + 1 < new_tokens && !(*session)->decode(tok).ok()) break;
  }
  std::printf("\n");
  return 0;
}
