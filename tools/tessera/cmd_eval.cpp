// tessera eval mqmtar MODEL... --lengths 1x,2x,...,64x --backend cpu[,cpu-int8,vulkan]: the seed paper's
// length-generalisation experiment on Tessera's backends (progress bar, table, CSV, SVG).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "command.h"
#include "core/file_io.h"
#include "tasks/eval_report.h"
#include "tasks/mqmtar_eval.h"

namespace tessera::cli {
namespace {

struct EvalArgs {
  std::string task, lengths = "1x,2x,4x,8x,16x,32x,64x", backends = "auto", csv, svg, title, format = "text";
  std::vector<std::string> models, include_csv;
  int samples = 100;
  uint64_t seed = 1;
  BackendFlags backend;
};

// Seed-code names in the CSV, so rows line up with tools/reference/eval_mqmtar.py's.
std::string seed_method_name(const AttentionMethod& m) {
  switch (m.kind) {
    case AttentionKind::kSparsemax: return "epanechnikov";
    case AttentionKind::kEntmax15: return "biweight";
    case AttentionKind::kEntmax43: return "triweight";
    default: return m.name();
  }
}

// examples/models/<name>/model.gguf -> <name>; examples/models/<name>/model-int8.gguf -> <name>-int8; x/other.gguf ->
// x-other.
std::string model_name(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string dir = p.parent_path().filename().string(), stem = p.stem().string();
  if (dir.empty() || dir == ".") return stem;
  if (stem == "model") return dir;
  return dir + "-" + (stem.rfind("model-", 0) == 0 ? stem.substr(6) : stem);
}

Status write_text(const std::string& path, const std::string& text) {
  return write_file_atomically(path, std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()),
                                                                text.size()));
}

int run_eval(EvalArgs a) {
  if (a.task != "mqmtar") return usage_error("eval", "unknown task '" + a.task + "' (available: mqmtar)");
  auto lengths = tasks::parse_mqmtar_lengths(a.lengths);
  if (!lengths.ok()) return usage_error("eval", lengths.status().message());
  if (a.samples <= 0) return usage_error("eval", "--samples must be > 0, got " + std::to_string(a.samples));
  if (a.models.empty() && a.include_csv.empty())
    return usage_error("eval", "no models given (and no --include-csv results to report)");
  std::vector<std::string> backends;
  for (size_t s = 0; s <= a.backends.size();) {
    size_t e = a.backends.find(',', s);
    if (e == std::string::npos) e = a.backends.size();
    backends.push_back(a.backends.substr(s, e - s));
    if (!parse_backend_kind(backends.back()).ok())
      return usage_error("eval", "--backend: unknown backend '" + backends.back() + "' (auto, cpu, vulkan, cpu-int8)");
    s = e + 1;
  }
  std::vector<tasks::EvalRow> rows;
  for (const auto& f : a.include_csv) {
    auto bytes = read_file(f);
    if (!bytes.ok()) return fail("eval", "--include-csv " + f + ": " + bytes.status().message());
    auto more = tasks::eval_rows_from_csv(std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size()), f);
    if (!more.ok()) return fail("eval", more.status().message());
    rows.insert(rows.end(), more->begin(), more->end());
  }
  // Load everything first: a missing model or a vocabulary mismatch fails before any long run.
  struct Loaded {
    std::string path, backend;
    std::shared_ptr<Model> model;
  };
  std::vector<Loaded> loaded;
  for (const auto& path : a.models)
    for (const auto& b : backends) {
      BackendFlags flags = a.backend;
      flags.backend = b;
      auto m = load_model(path, flags, false);
      if (!m.ok()) return fail("eval", path + ": " + m.status().message());
      Status fit = tasks::check_mqmtar_model((*m)->info());
      if (!fit.ok()) return fail("eval", path + ": " + fit.message());
      // The CSV names the backend kind asked for (the device, e.g. "vulkan (llvmpipe ...)", goes to stderr).
      std::cerr << path << ": " << (*m)->info().backend_name << "\n";
      loaded.push_back({path, b == "auto" ? (*m)->info().backend_name : b, *m});
    }
  const bool tty = isatty(2);
  for (auto& l : loaded) {
    const std::string name = model_name(l.path), method = seed_method_name(l.model->info().method);
    for (int L : *lengths) {
      const auto t0 = std::chrono::steady_clock::now();
      auto progress = [&](int done, int total) {
        if (!tty) return;
        const int w = 30, n = w * done / total;
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "\r%-24s %-8s L=%-5d [%s%s] %d/%d %.0fs", name.c_str(), l.backend.c_str(), L,
                     std::string(size_t(n), '#').c_str(), std::string(size_t(w - n), '.').c_str(), done, total, s);
        std::fflush(stderr);
      };
      auto r = tasks::evaluate_mqmtar(*l.model, {L, a.samples, a.seed}, progress);
      if (tty) std::fprintf(stderr, "\n");
      if (!r.ok()) return fail("eval", l.path + " at L=" + std::to_string(L) + ": " + r.status().message());
      rows.push_back(
          {name, method, l.backend, L / 64.0, L, r->tokens, r->samples, r->pair_accuracy(), r->exact_match()});
      if (!tty)
        std::fprintf(stderr, "%s %s L=%d: pair %.2f%% exact %.2f%%\n", name.c_str(), l.backend.c_str(), L,
                     r->pair_accuracy(), r->exact_match());
    }
  }
  if (a.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const tasks::EvalRow& r : rows)
      out.push_back({{"model", r.model},
                     {"method", r.method},
                     {"backend", r.backend},
                     {"multiple", r.multiple},
                     {"length", r.length},
                     {"tokens", r.tokens},
                     {"samples", r.samples},
                     {"pair_accuracy", r.pair_accuracy},
                     {"exact_match", r.exact_match}});
    std::cout << nlohmann::json{{"task", a.task}, {"rows", std::move(out)}}.dump(
                     1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << tasks::eval_rows_table(rows);
  }
  if (!a.csv.empty()) {
    Status st = write_text(a.csv, tasks::eval_rows_to_csv(rows));
    if (!st.ok()) return fail("eval", "--csv " + a.csv + ": " + st.message());
  }
  if (!a.svg.empty()) {
    const std::string title = a.title.empty() ? "MQMTAR pair accuracy vs length" : a.title;
    Status st = write_text(a.svg, tasks::eval_rows_svg(rows, title));
    if (!st.ok()) return fail("eval", "--svg " + a.svg + ": " + st.message());
  }
  return kExitOk;
}

Registration reg(
    "eval", "accuracy of models on a task at several lengths (mqmtar): table, CSV, SVG",
    [](CLI::App& sub) -> Action {
      auto a = std::make_shared<EvalArgs>();
      sub.add_option("task", a->task, "task: mqmtar")->required();
      sub.add_option("models", a->models, "model .gguf files (none: only report --include-csv rows)");
      sub.add_option("--lengths", a->lengths, "multiples of 64 (1x,2x,...) or token counts")->capture_default_str();
      sub.add_option("--samples", a->samples, "samples per length")->capture_default_str();
      sub.add_option("--seed", a->seed, "base seed of the sample streams")->capture_default_str();
      sub.add_option("--csv", a->csv, "write the results as CSV");
      sub.add_option("--svg", a->svg, "write an accuracy-vs-length plot");
      sub.add_option("--title", a->title, "SVG title");
      sub.add_option("--include-csv", a->include_csv, "earlier results (e.g. PyTorch) to add to the table/plot");
      a->backend.add_to(sub);
      sub.remove_option(sub.get_option("--backend"));
      sub.add_option("--backend", a->backends, "comma list of auto (Vulkan if usable, else cpu), cpu, vulkan, cpu-int8")
          ->capture_default_str();
      add_format_option(sub, a->format);
      return [a] { return run_eval(*a); };
    },
    50);

}  // namespace
}  // namespace tessera::cli
