// tessera compare BASE.gguf QUANT.gguf: how far a quantized model is from the float one on held-out
// data — top-1 agreement, mean / 99th-percentile KL divergence of the next-token distributions and
// both perplexities (as llama.cpp's `llama-perplexity --kl-divergence` reports them).
#include <cstdio>
#include <iostream>

#include "cli_common.h"
#include "command.h"
#include "progress.h"
#include "quant/calibrate.h"
#include "quant/logit_metrics.h"
#include "tasks/mqmtar.h"

namespace tessera::cli {
namespace {

struct CompareArgs {
  std::string base, quant, data, data_format = "auto", tokens, backend = "auto", format = "text";
  int64_t length = 0, samples = 10;
  uint64_t seed = 7;
  int threads = default_threads();
  bool quiet = false;
};

// BASE always runs on the float CPU runtime; QUANT on --backend, where auto means cpu-int8 for a file
// with int8 activations and cpu otherwise.
Result<std::shared_ptr<Model>> load_quant(const std::string& path, const std::string& backend, int threads) {
  LoadOptions o;
  o.threads = threads;
  if (backend != "auto") {
    TESSERA_ASSIGN_OR_RETURN(o.backend, parse_backend_kind(backend));
    return Model::load(path, o);
  }
  o.backend = BackendKind::kCpuInt8;
  auto int8 = Model::load(path, o);
  if (int8.ok()) return int8;
  o.backend = BackendKind::kCpu;
  return Model::load(path, o);
}

Result<std::vector<std::vector<int32_t>>> held_out_data(const CompareArgs& a, const ModelInfo& info) {
  if (!a.tokens.empty()) {
    TESSERA_ASSIGN_OR_RETURN(auto ids, parse_token_list(a.tokens));
    for (size_t i = 0; i < ids.size(); ++i)
      if (ids[i] < 0 || ids[i] >= info.vocab_size)
        return invalid_argument("--tokens: item " + std::to_string(i) + ": token " + std::to_string(ids[i]) +
                                " is outside the vocabulary [0, " + std::to_string(info.vocab_size) + ")");
    return std::vector<std::vector<int32_t>>{ids};
  }
  if (!a.data.empty()) {
    const auto format = a.data_format == "tokens" ? quant::CalibrationFormat::kTokens
                        : a.data_format == "text" ? quant::CalibrationFormat::kText
                                                  : quant::CalibrationFormat::kAuto;
    const int64_t len = a.length > 0 ? a.length : std::max<int64_t>(std::min<int64_t>(info.block_size, 256), 16);
    TESSERA_ASSIGN_OR_RETURN(quant::CalibrationFile file,
                             quant::read_calibration(a.data, format, info.tokenizer_tokens, info.vocab_size, len));
    return std::move(file.sequences);
  }
  if (info.vocab_size == tasks::kMqmtarVocabSize) {  // the task's own held-out samples (pairs region 64)
    tasks::Mqmtar gen(a.seed);
    std::vector<std::vector<int32_t>> out;
    for (int64_t s = 0; s < a.samples; ++s) {
      TESSERA_ASSIGN_OR_RETURN(auto sample, gen.sample(64));
      std::vector<int32_t> seq = sample.wrapped();
      seq.pop_back();
      out.push_back(std::move(seq));
    }
    return out;
  }
  return invalid_argument("no held-out data: give --data FILE (text or token ids) or --tokens");
}

Result<std::vector<float>> all_logits(Model& model, const std::vector<int32_t>& tokens) {
  SessionOptions so;
  so.max_tokens = int64_t(tokens.size());
  TESSERA_ASSIGN_OR_RETURN(auto session, Session::create(model, so));
  std::vector<float> logits(tokens.size() * size_t(model.info().vocab_size));
  TESSERA_RETURN_IF_ERROR(session->prefill(tokens, logits));
  return logits;
}

int run_compare(const CompareArgs& a) {
  if (a.threads < 1 || a.threads > 256)
    return fail("compare", "--threads must be in 1..256, found " + std::to_string(a.threads));
  LoadOptions bo;
  bo.backend = BackendKind::kCpu;
  bo.threads = a.threads;
  auto base = Model::load(a.base, bo);
  if (!base.ok()) return fail("compare", base.status().message());
  auto quant = load_quant(a.quant, a.backend, a.threads);
  if (!quant.ok()) return fail("compare", quant.status().message());
  const ModelInfo &bi = (*base)->info(), &qi = (*quant)->info();
  if (bi.vocab_size != qi.vocab_size)
    return fail("compare", a.quant + ": vocabulary " + std::to_string(qi.vocab_size) + " differs from " + a.base +
                               "'s " + std::to_string(bi.vocab_size));
  auto data = held_out_data(a, bi);
  if (!data.ok()) return fail("compare", data.status().message());
  quant::LogitComparer cmp;
  PhaseProgress progress(!a.quiet);
  const int64_t V = bi.vocab_size;
  for (size_t s = 0; s < data->size(); ++s) {
    const std::vector<int32_t>& seq = (*data)[s];
    auto lb = all_logits(**base, seq);
    if (!lb.ok()) return fail("compare", a.base + ": " + lb.status().message());
    auto lq = all_logits(**quant, seq);
    if (!lq.ok()) return fail("compare", a.quant + ": " + lq.status().message());
    for (size_t t = 0; t < seq.size(); ++t)
      cmp.add(lb->data() + t * size_t(V), lq->data() + t * size_t(V), V, t + 1 < seq.size() ? seq[t + 1] : -1);
    progress.update("comparing", int64_t(s + 1), int64_t(data->size()), "sequences");
  }
  progress.end_line();
  const quant::LogitComparison r = cmp.result();
  if (a.format == "json") {
    std::string j = r.json();
    j.insert(1, "\"base\": \"" + a.base + "\", \"quant\": \"" + a.quant + "\", \"quant_backend\": \"" +
                    qi.backend_name + "\", ");
    std::cout << j;
  } else {
    std::cout << "base  " << a.base << " (cpu)\nquant " << a.quant << " (" << qi.backend_name << ")\n" << r.text();
  }
  return 0;
}

Registration reg(
    "compare", "accuracy of a quantized model against its float model on held-out data",
    [](CLI::App& sub) -> Action {
      auto a = std::make_shared<CompareArgs>();
      sub.add_option("base", a->base, "float model .gguf (runs on the float CPU runtime)")->required();
      sub.add_option("quant", a->quant, "quantized model .gguf")->required();
      sub.add_option("--data", a->data,
                     "held-out data: token ids (one sequence per line) or text (the model's tokenizer)");
      sub.add_option("--data-format", a->data_format, "auto | tokens | text")
          ->check(CLI::IsMember({"auto", "tokens", "text"}))
          ->capture_default_str();
      sub.add_option("--tokens", a->tokens, "one token sequence, e.g. \"1 2 3\"");
      sub.add_option("--length", a->length, "text: tokens per sequence (default: block size, 16..256)");
      sub.add_option("--samples", a->samples, "no data, MQMTAR models: task samples (pairs region 64)")
          ->capture_default_str();
      sub.add_option("--seed", a->seed, "their seed (not the calibration seed)")->capture_default_str();
      sub.add_option("--backend", a->backend,
                     "QUANT's backend: auto (cpu-int8 for int8 activations, else cpu) | cpu | cpu-int8 | "
                     "vulkan")
          ->capture_default_str();
      sub.add_option("--threads", a->threads, "CPU threads, 1..256 (default: the CPUs this process may use)")
          ->capture_default_str();
      sub.add_option("--format", a->format, "text | json")
          ->check(CLI::IsMember({"text", "json"}))
          ->capture_default_str();
      sub.add_flag("--quiet", a->quiet, "no progress");
      return [a] { return run_compare(*a); };
    },
    25);

}  // namespace
}  // namespace tessera::cli
