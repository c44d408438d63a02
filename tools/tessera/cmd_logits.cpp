// tessera logits MODEL (--tokens "1 2 3" | --prompt TEXT): next-token logits at every position (for verification).
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "command.h"
#include "tessera/tokenizer.h"

namespace tessera::cli {
namespace {

struct LogitsArgs {
  std::string model, tokens, prompt, format = "text";
  BackendFlags backend;
};

// %.9g round-trips a float; JSON has no NaN/Inf, so those become null there.
void print_value(float v, bool json) {
  if (json && !std::isfinite(v)) std::printf("null");
  else std::printf("%.9g", double(v));
}

int run_logits(const LogitsArgs& a) {
  if (a.tokens.empty() == a.prompt.empty()) return usage_error("logits", "give one of --tokens or --prompt");
  std::vector<int32_t> tokens;
  if (!a.tokens.empty()) {
    auto ids = parse_token_list(a.tokens);
    if (!ids.ok()) return usage_error("logits", "--tokens: " + ids.status().message());
    tokens = std::move(ids).value();
  }
  auto model = load_model(a.model, a.backend, false);
  if (!model.ok()) return fail("logits", model.status().message());
  if (!a.prompt.empty()) {
    if ((*model)->info().tokenizer_tokens.empty())
      return fail("logits", a.model + " has no tokenizer: pass --tokens instead of --prompt");
    auto tokenizer = Tokenizer::from_tokens((*model)->info().tokenizer_tokens);
    if (!tokenizer.ok()) return fail("logits", tokenizer.status().message());
    auto ids = tokenizer->encode(a.prompt);
    if (!ids.ok()) return fail("logits", "--prompt: " + ids.status().message());
    tokens = std::move(ids).value();
    if (tokens.empty()) return usage_error("logits", "--prompt is empty");
  }
  const size_t T = tokens.size(), V = size_t((*model)->info().vocab_size);
  SessionOptions so;
  so.max_tokens = int64_t(T);
  auto session = Session::create(**model, so);
  if (!session.ok()) return fail("logits", session.status().message());
  std::vector<float> logits(T * V);
  Status st = (*session)->prefill(tokens, logits);
  if (!st.ok()) return fail("logits", st.message());
  if (a.format == "json") {
    const std::string backend =
        nlohmann::json((*model)->info().backend_name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::printf("{\"backend\": %s, \"vocab_size\": %zu, \"tokens\": [", backend.c_str(), V);
    for (size_t t = 0; t < T; ++t) std::printf("%s%d", t ? ", " : "", tokens[t]);
    std::printf("], \"logits\": [");
    for (size_t t = 0; t < T; ++t) {
      std::printf("%s[", t ? ",\n  " : "\n  ");
      for (size_t v = 0; v < V; ++v) {
        if (v) std::printf(", ");
        print_value(logits[t * V + v], true);
      }
      std::printf("]");
    }
    std::printf("]}\n");
  } else {
    for (size_t t = 0; t < T; ++t) {
      std::printf("%zu:", t);
      for (size_t v = 0; v < V; ++v) {
        std::printf(" ");
        print_value(logits[t * V + v], false);
      }
      std::printf("\n");
    }
  }
  return kExitOk;
}

Registration reg(
    "logits", "print the next-token logits at every position of a token sequence",
    [](CLI::App& sub) -> Action {
      auto a = std::make_shared<LogitsArgs>();
      sub.add_option("model", a->model, "model .gguf")->required();
      add_tokens_option(sub, a->tokens, "token ids, e.g. \"1 2 3\" (or --prompt)");
      sub.add_option("--prompt", a->prompt, "text, for models with a tokenizer (or --tokens)");
      add_format_option(sub, a->format);
      a->backend.add_to(sub);
      return [a] { return run_logits(*a); };
    },
    30);

}  // namespace
}  // namespace tessera::cli
