// A C++17 program built on an installed Tessera (C++ API): greedy decoding from prompt token ids.
//   consumer_cpp MODEL.gguf BACKEND N TOKEN [TOKEN ...]     BACKEND: cpu | cpu-int8 | auto
// Prints "tokens: t1 t2 ..." (the N generated ids), the line `tessera generate --prompt-tokens` prints.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tessera/tessera.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s MODEL.gguf cpu|cpu-int8|auto N TOKEN [TOKEN ...]\n", argv[0]);
    return 2;
  }
  auto backend = tessera::parse_backend_kind(argv[2]);
  if (!backend.ok()) {
    std::fprintf(stderr, "consumer_cpp: %s\n", backend.status().to_string().c_str());
    return 2;
  }
  tessera::LoadOptions options;
  options.backend = *backend;
  const int n_new = std::atoi(argv[3]);
  std::vector<int32_t> prompt;
  for (int i = 4; i < argc; ++i) prompt.push_back(int32_t(std::atoi(argv[i])));

  auto model = tessera::Model::load(argv[1], options);
  if (!model.ok()) {
    std::fprintf(stderr, "consumer_cpp: %s\n", model.status().to_string().c_str());
    return 1;
  }
  tessera::SessionOptions session_options;
  session_options.max_tokens = int64_t(prompt.size()) + n_new;
  auto session = tessera::Session::create(**model, session_options);
  if (!session.ok()) {
    std::fprintf(stderr, "consumer_cpp: %s\n", session.status().to_string().c_str());
    return 1;
  }
  if (tessera::Status st = (*session)->prefill(prompt); !st.ok()) {
    std::fprintf(stderr, "consumer_cpp: %s\n", st.to_string().c_str());
    return 1;
  }
  tessera::Sampler greedy(tessera::SamplingParams{});
  std::printf("tokens:");
  for (int i = 0; i < n_new; ++i) {
    const int32_t token = greedy.sample((*session)->logits());
    std::printf(" %d", token);
    if (i + 1 < n_new) {
      if (tessera::Status st = (*session)->decode(token); !st.ok()) {
        std::fprintf(stderr, "consumer_cpp: %s\n", st.to_string().c_str());
        return 1;
      }
    }
  }
  std::printf("\n");
  return 0;
}
