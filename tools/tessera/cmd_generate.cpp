// tessera generate MODEL (--tokens "..." | --prompt "text") -n N: cached decoding.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli_common.h"
#include "core/printable.h"
#include "command.h"
#include "tessera/tokenizer.h"

namespace tessera::cli {
namespace {

struct GenerateArgs {
  std::string model, prompt_tokens, prompt;
  int n = 16;
  int64_t max_tokens = 0;
  SamplingParams sampling;
  BackendFlags backend;
};

int run_generate(const GenerateArgs& a) {
  if (a.prompt_tokens.empty() == a.prompt.empty()) return usage_error("generate", "give one of --tokens or --prompt");
  if (a.n < 0) return usage_error("generate", "-n must be >= 0, found " + std::to_string(a.n));
  std::vector<int32_t> prompt;
  if (!a.prompt_tokens.empty()) {
    auto ids = parse_token_list(a.prompt_tokens);
    if (!ids.ok()) return usage_error("generate", "--tokens: " + ids.status().message());
    prompt = std::move(ids).value();
  }
  auto model = load_model(a.model, a.backend, true);
  if (!model.ok()) return fail("generate", model.status().message());
  const ModelInfo& info = (*model)->info();
  std::optional<Tokenizer> tokenizer;
  if (!info.tokenizer_tokens.empty()) {
    auto t = Tokenizer::from_tokens(info.tokenizer_tokens);
    if (!t.ok()) return fail("generate", t.status().message());
    tokenizer = std::move(t).value();
  }
  if (!a.prompt.empty()) {
    if (!tokenizer) return fail("generate", a.model + " has no tokenizer: pass --tokens instead of --prompt");
    auto ids = tokenizer->encode(a.prompt);
    if (!ids.ok()) return fail("generate", "--prompt: " + ids.status().message());
    prompt = std::move(ids).value();
  }
  if (prompt.empty()) return usage_error("generate", "the prompt is empty");
  if (a.n < 0) return usage_error("generate", "-n must be >= 0, found " + std::to_string(a.n));
  auto sampler_or = Sampler::create(a.sampling);
  if (!sampler_or.ok()) return usage_error("generate", sampler_or.status().message());
  Sampler& sampler = sampler_or.value();
  SessionOptions so;  // the library checks --max-tokens (sign, backend limit, memory)
  so.max_tokens = a.max_tokens != 0 ? a.max_tokens : int64_t(prompt.size()) + a.n;
  auto session = Session::create(**model, so);
  if (!session.ok()) return fail("generate", session.status().message());
  auto t0 = std::chrono::steady_clock::now();
  Status st = (*session)->prefill(prompt);
  if (!st.ok()) return fail("generate", st.message());
  auto t1 = std::chrono::steady_clock::now();
  if (tokenizer) std::cout << a.prompt;
  std::vector<int32_t> generated;
  for (int i = 0; i < a.n; ++i) {
    const int32_t tok = sampler.sample((*session)->logits());
    generated.push_back(tok);
    if (tokenizer) std::cout << printable_text(tokenizer->decode(tok)) << std::flush;
    if (i + 1 < a.n) {
      st = (*session)->decode(tok);
      if (!st.ok()) return fail("generate", st.message());
    }
  }
  auto t2 = std::chrono::steady_clock::now();
  if (tokenizer) {
    std::cout << "\n";
  } else {
    std::cout << "tokens:";
    for (int32_t t : generated) std::cout << " " << t;
    std::cout << "\n";
  }
  std::cout.flush();  // the statistics go to stderr, after the text
  const double prefill_s = std::chrono::duration<double>(t1 - t0).count();
  const double decode_s = std::chrono::duration<double>(t2 - t1).count();
  std::fprintf(stderr, "backend %s: prefill %zu tokens in %.1f ms (%.0f tok/s), generated %d tokens at %.0f tok/s\n",
               info.backend_name.c_str(), prompt.size(), prefill_s * 1e3, double(prompt.size()) / prefill_s, a.n,
               a.n > 1 ? double(a.n - 1) / decode_s : 0.0);
  return kExitOk;
}

Registration reg(
    "generate", "generate tokens from a prompt (cached decoding)",
    [](CLI::App& sub) -> Action {
      auto a = std::make_shared<GenerateArgs>();
      sub.add_option("model", a->model, "model .gguf")->required();
      add_tokens_option(sub, a->prompt_tokens, "prompt token ids, e.g. \"1 2 3\" (or --prompt)", "--prompt-tokens");
      sub.add_option("--prompt", a->prompt, "prompt text, for models with a tokenizer (or --tokens)");
      sub.add_option("-n,--new-tokens", a->n, "tokens to generate")->capture_default_str();
      sub.add_option("--max-tokens", a->max_tokens, "session capacity (default: prompt + n)");
      sub.add_option("--temperature", a->sampling.temperature, "0: greedy")->capture_default_str();
      sub.add_option("--top-p", a->sampling.top_p, "nucleus sampling")->capture_default_str();
      sub.add_option("--top-k", a->sampling.top_k, "0: off")->capture_default_str();
      sub.add_option("--seed", a->sampling.seed, "sampling seed")->capture_default_str();
      a->backend.add_to(sub);
      return [a] { return run_generate(*a); };
    },
    40);

}  // namespace
}  // namespace tessera::cli
