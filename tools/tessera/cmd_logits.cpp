// tessera logits MODEL --tokens "1 2 3": next-token logits at every position (for verification).
#include <cstdio>
#include <iostream>

#include "cli_common.h"
#include "command.h"

namespace tessera::cli {
namespace {

struct LogitsArgs {
  std::string model, tokens, format = "text";
  BackendFlags backend;
};

int run_logits(const LogitsArgs& a) {
  auto tokens = parse_token_list(a.tokens);
  if (!tokens.ok()) return fail("logits", "--tokens: " + tokens.status().message());
  auto model = load_model(a.model, a.backend, false);
  if (!model.ok()) return fail("logits", model.status().message());
  const size_t T = tokens->size(), V = size_t((*model)->info().vocab_size);
  SessionOptions so;
  so.max_tokens = int64_t(T);
  auto session = Session::create(**model, so);
  if (!session.ok()) return fail("logits", session.status().message());
  std::vector<float> logits(T * V);
  Status st = (*session)->prefill(tokens.value(), logits);
  if (!st.ok()) return fail("logits", st.message());
  if (a.format == "json") {
    std::printf("{\"backend\": \"%s\", \"tokens\": [", (*model)->info().backend_name.c_str());
    for (size_t t = 0; t < T; ++t) std::printf("%s%d", t ? ", " : "", tokens.value()[t]);
    std::printf("], \"logits\": [");
    for (size_t t = 0; t < T; ++t) {
      std::printf("%s[", t ? ",\n  " : "\n  ");
      for (size_t v = 0; v < V; ++v) std::printf("%s%.9g", v ? ", " : "", double(logits[t * V + v]));
      std::printf("]");
    }
    std::printf("]}\n");
  } else {
    for (size_t t = 0; t < T; ++t) {
      std::printf("%zu:", t);
      for (size_t v = 0; v < V; ++v) std::printf(" %.9g", double(logits[t * V + v]));
      std::printf("\n");
    }
  }
  return 0;
}

Registration reg("logits", "print the next-token logits at every position of a token sequence",
                 [](CLI::App& sub) -> Action {
                   auto a = std::make_shared<LogitsArgs>();
                   sub.add_option("model", a->model, "model .gguf")->required();
                   sub.add_option("--tokens", a->tokens, "token ids, e.g. \"1 2 3\"")->required();
                   sub.add_option("--format", a->format, "text | json")->check(CLI::IsMember({"text", "json"}));
                   a->backend.add_to(sub, "cpu");
                   return [a] { return run_logits(*a); };
                 },
                 30);

}  // namespace
}  // namespace tessera::cli
