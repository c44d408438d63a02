// tessera bench [MODEL] -p 512 -n 128 --backend cpu,cpu-int8,vulkan: prompt-processing and generation
// tokens/s per backend and thread count, mean ± sd over repetitions, like llama.cpp's llama-bench.
#include <sys/stat.h>

#include <chrono>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cli_common.h"
#include "command.h"
#include "format/gguf.h"
#include "quant/random_model.h"

namespace tessera::cli {
namespace {

constexpr int64_t kMaxBenchTokens = int64_t(1) << 20;

struct BenchArgs {
  std::string model, random_model, method = "softmax";
  std::string prompts = "512", generations = "128", backends, threads = std::to_string(default_threads()),
              format = "md";
  int repetitions = 5;
  int vulkan_device = -1;
  std::string vulkan_device_name;
};

// "128,512" -> {128, 512}; every item an integer in [lo, hi].
Result<std::vector<int64_t>> parse_int_list(const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || v < lo || v > hi)
      return invalid_argument(flag + ": '" + item + "' is not an integer in [" + std::to_string(lo) + ", " +
                              std::to_string(hi) + "] (a comma list, e.g. 128,512)");
    out.push_back(v);
  }
  if (out.empty()) return invalid_argument(flag + ": the list is empty");
  return out;
}

Result<std::vector<BackendKind>> parse_backend_list(const std::string& text) {
  std::vector<BackendKind> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto k = parse_backend_kind(item);
    if (!k.ok() || *k == BackendKind::kAuto)
      return invalid_argument("--backend: unknown backend '" + item + "' (a comma list of cpu, cpu-int8, vulkan)");
    bool seen = false;
    for (BackendKind b : out) seen = seen || b == *k;
    if (!seen) out.push_back(*k);
  }
  if (out.empty()) return invalid_argument("--backend: the list is empty");
  return out;
}

struct Row {
  std::string backend, device, test;
  int threads = 0;  // 0: not a CPU backend
  int64_t n_prompt = 0, n_gen = 0;
  std::vector<double> samples;  // tokens/s of each repetition
  double mean() const {
    double s = 0;
    for (double x : samples) s += x;
    return s / double(samples.size());
  }
  double sd() const {  // sample standard deviation (n - 1), as llama-bench
    if (samples.size() < 2) return 0;
    const double m = mean();
    double s = 0;
    for (double x : samples) s += (x - m) * (x - m);
    return std::sqrt(s / double(samples.size() - 1));
  }
};

// The model under test: the bytes of an in-memory model (float and, when cpu-int8 asks, int8) or a file.
struct BenchModel {
  std::string label, path;
  std::vector<std::byte> float_bytes, int8_bytes;
  ConvertedModel random;  // kept until the int8 bytes are built
  int64_t size_bytes = 0, params = 0, vocab = 0;
};

std::vector<int32_t> random_tokens(int64_t count, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> pick(0, int32_t(vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(count));
  for (int32_t& x : t) x = pick(rng);
  return t;
}

// One timed run: pp = one prefill of `tokens`; tg = one token prefilled, then the rest decoded one at a time.
Result<double> time_once(Model& model, const std::vector<int32_t>& tokens, bool generation) {
  SessionOptions so;
  so.max_tokens = int64_t(tokens.size());
  TESSERA_ASSIGN_OR_RETURN(auto session, Session::create(model, so));
  const auto t0 = std::chrono::steady_clock::now();
  if (!generation) {
    TESSERA_RETURN_IF_ERROR(session->prefill(tokens));
  } else {
    TESSERA_RETURN_IF_ERROR(session->prefill(Span<const int32_t>(tokens.data(), 1)));
    for (size_t i = 1; i < tokens.size(); ++i) TESSERA_RETURN_IF_ERROR(session->decode(tokens[i]));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return double(tokens.size()) / std::max(s, 1e-9);
}

Result<Row> measure(Model& model, const std::string& test, const std::vector<int32_t>& tokens, bool generation,
                    int repetitions) {
  Row row;
  row.test = test;
  TESSERA_RETURN_IF_ERROR(time_once(model, tokens, generation).status());  // warm-up, untimed
  for (int r = 0; r < repetitions; ++r) {
    TESSERA_ASSIGN_OR_RETURN(double tps, time_once(model, tokens, generation));
    row.samples.push_back(tps);
  }
  return row;
}

std::string human_size(int64_t bytes) {
  char b[32];
  if (bytes >= (int64_t(1) << 30)) std::snprintf(b, sizeof b, "%.2f GiB", double(bytes) / double(1 << 30));
  else std::snprintf(b, sizeof b, "%.2f MiB", double(bytes) / double(1 << 20));
  return b;
}

std::string human_count(int64_t n) {
  char b[32];
  if (n >= 1000000000) std::snprintf(b, sizeof b, "%.2f B", double(n) / 1e9);
  else std::snprintf(b, sizeof b, "%.2f M", double(n) / 1e6);
  return b;
}

void print_rows(const std::string& format, const BenchModel& m, const std::vector<Row>& rows, int repetitions) {
  if (format == "json") {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const Row& r : rows)
      out.push_back({{"model", m.label},
                     {"model_size_bytes", m.size_bytes},
                     {"params", m.params},
                     {"backend", r.backend},
                     {"device", r.device},
                     {"threads", r.threads ? nlohmann::ordered_json(r.threads) : nlohmann::ordered_json(nullptr)},
                     {"test", r.test},
                     {"n_prompt", r.n_prompt},
                     {"n_gen", r.n_gen},
                     {"repetitions", repetitions},
                     {"avg_ts", r.mean()},
                     {"stddev_ts", r.sd()},
                     {"samples_ts", r.samples}});
    std::cout << out.dump(2) << "\n";
    return;
  }
  if (format == "csv") {
    std::cout
        << "model,model_size_bytes,params,backend,device,threads,test,n_prompt,n_gen,repetitions,avg_ts,stddev_ts\n";
    for (const Row& r : rows) {
      std::printf("\"%s\",%lld,%lld,%s,\"%s\",%s,%s,%lld,%lld,%d,%.3f,%.3f\n", m.label.c_str(), (long long)m.size_bytes,
                  (long long)m.params, r.backend.c_str(), r.device.c_str(),
                  r.threads ? std::to_string(r.threads).c_str() : "", r.test.c_str(), (long long)r.n_prompt,
                  (long long)r.n_gen, repetitions, r.mean(), r.sd());
    }
    return;
  }
  std::cout << "| model | size | params | backend | threads | test | t/s |\n"
               "| --- | ---: | ---: | --- | ---: | ---: | ---: |\n";
  for (const Row& r : rows) {
    std::printf("| %s | %s | %s | %s | %s | %s | %.2f ± %.2f |\n", m.label.c_str(), human_size(m.size_bytes).c_str(),
                human_count(m.params).c_str(), r.device.c_str(), r.threads ? std::to_string(r.threads).c_str() : "-",
                r.test.c_str(), r.mean(), r.sd());
  }
}

Result<BenchModel> open_model(const BenchArgs& a, bool needs_int8, int threads) {
  BenchModel m;
  if (!a.random_model.empty()) {
    TESSERA_ASSIGN_OR_RETURN(HParams hp, quant::random_model_preset(a.random_model, a.method));
    m.label = "random " + a.random_model + " " + hp.method.name();
    std::cerr << "building the random model " << a.random_model << "\n";
    m.random = quant::make_random_model(hp);
    m.params = quant::parameter_count(m.random.tensors);
    m.vocab = hp.vocab_size;
    TESSERA_ASSIGN_OR_RETURN(m.float_bytes, quant::model_gguf_bytes(m.random));
    m.size_bytes = int64_t(m.float_bytes.size());
    if (needs_int8) {
      std::cerr << "quantizing it to int8 (calibration: 4 random sequences of 32 tokens)\n";
      TESSERA_ASSIGN_OR_RETURN(m.int8_bytes, quant::quantized_int8_gguf_bytes(m.random, 4, 32, threads));
    }
    m.random = {};
    return m;
  }
  TESSERA_ASSIGN_OR_RETURN(gguf::File f, gguf::File::open(a.model));
  struct stat st {};
  if (::stat(a.model.c_str(), &st) == 0) m.size_bytes = int64_t(st.st_size);
  for (const Tensor& t : f.tensors()) m.params += t.numel();
  // general.name tells models apart better than the file name (the shipped ones are all model.gguf).
  auto name = f.get_string("general.name");
  m.label = name.ok() && !name->empty() ? *name : a.model;
  m.path = a.model;
  return m;
}

int run_bench(const BenchArgs& a) {
  const char* cmd = "bench";
  if (a.model.empty() == a.random_model.empty()) return usage_error(cmd, "give one of MODEL or --random-model");
  auto prompts = parse_int_list("-p", a.prompts, 0, kMaxBenchTokens);
  if (!prompts.ok()) return usage_error(cmd, prompts.status().message());
  auto gens = parse_int_list("-n", a.generations, 0, kMaxBenchTokens);
  if (!gens.ok()) return usage_error(cmd, gens.status().message());
  auto threads = parse_int_list("--threads", a.threads, 1, kMaxThreads);
  if (!threads.ok()) return usage_error(cmd, threads.status().message());
  if (!a.random_model.empty()) {
    auto hp = quant::random_model_preset(a.random_model, a.method);
    if (!hp.ok()) return usage_error(cmd, hp.status().message());
  }
  const bool explicit_backends = !a.backends.empty();
  std::vector<BackendKind> backends = {BackendKind::kCpu, BackendKind::kCpuInt8};
  if (explicit_backends) {
    auto b = parse_backend_list(a.backends);
    if (!b.ok()) return usage_error(cmd, b.status().message());
    backends = *b;
  } else if (auto devices = list_vulkan_devices(); devices.ok() && !devices->empty()) {
    backends.push_back(BackendKind::kVulkan);
  }
  bool needs_int8 = false;
  for (BackendKind b : backends) needs_int8 = needs_int8 || b == BackendKind::kCpuInt8;
  int max_threads = 1;
  for (int64_t t : *threads) max_threads = std::max(max_threads, int(t));

  auto model_or = open_model(a, needs_int8, max_threads);
  if (!model_or.ok()) return fail(cmd, model_or.status().message());
  BenchModel& bm = *model_or;

  std::vector<Row> rows;
  for (BackendKind kind : backends) {
    // The thread count only matters to the CPU backends; Vulkan runs once.
    const std::vector<int64_t> thread_list = kind == BackendKind::kVulkan ? std::vector<int64_t>{1} : *threads;
    for (int64_t t : thread_list) {
      LoadOptions o;
      o.backend = kind;
      o.threads = int(t);
      o.vulkan_device_index = a.vulkan_device;
      o.vulkan_device_name = a.vulkan_device_name;
      Result<std::shared_ptr<Model>> model = internal_error("no model");
      if (!bm.path.empty()) model = Model::load(bm.path, o);
      else if (kind == BackendKind::kCpuInt8) model = Model::load_from_memory(bm.int8_bytes, o);
      else model = Model::load_from_memory(bm.float_bytes, o);
      if (!model.ok()) {
        const std::string why = std::string(backend_kind_name(kind)) + ": " + model.status().message();
        if (explicit_backends) return fail(cmd, why);
        std::cerr << "skipping " << why << "\n";
        break;
      }
      if (bm.vocab == 0) bm.vocab = (*model)->info().vocab_size;
      auto run_case = [&](int64_t count, bool generation) -> Status {
        if (count == 0) return Status();
        const std::string test = (generation ? "tg" : "pp") + std::to_string(count);
        std::cerr << (*model)->info().backend_name;
        if (kind != BackendKind::kVulkan) std::cerr << ", threads " << t;
        std::cerr << ": " << test << "\n";
        TESSERA_ASSIGN_OR_RETURN(Row row, measure(**model, test, random_tokens(count, bm.vocab, uint64_t(count)),
                                                  generation, a.repetitions));
        row.backend = backend_kind_name(kind);
        row.device = (*model)->info().backend_name;
        row.threads = kind == BackendKind::kVulkan ? 0 : int(t);
        (generation ? row.n_gen : row.n_prompt) = count;
        rows.push_back(std::move(row));
        return Status();
      };
      for (int64_t p : *prompts)
        if (Status s = run_case(p, false); !s.ok()) return fail(cmd, s.message());
      for (int64_t n : *gens)
        if (Status s = run_case(n, true); !s.ok()) return fail(cmd, s.message());
    }
  }
  if (rows.empty()) return fail(cmd, "no backend could run the model");
  print_rows(a.format, bm, rows, a.repetitions);
  return kExitOk;
}

Registration reg(
    "bench", "measure prompt-processing and generation speed (tokens/s) per backend",
    [](CLI::App& sub) -> Action {
      auto a = std::make_shared<BenchArgs>();
      sub.add_option("model", a->model, "model .gguf (or --random-model)");
      sub.add_option("--random-model", a->random_model,
                     "benchmark a random model built in memory: gpt2-small | small | tiny");
      sub.add_option("--method", a->method, "attention of the random model (softmax, entmax15, ...)")
          ->capture_default_str();
      sub.add_option("-p,--n-prompt", a->prompts, "prompt lengths (comma list; 0: none)")->capture_default_str();
      sub.add_option("-n,--n-gen", a->generations, "generated tokens (comma list; 0: none)")->capture_default_str();
      sub.add_option("--backend", a->backends,
                     "comma list of cpu, cpu-int8, vulkan (default: the CPU backends, and vulkan when "
                     "a device exists)");
      sub.add_option("--threads", a->threads,
                     "CPU threads, 1..256 (comma list; default: the CPUs this process may use)")
          ->capture_default_str();
      sub.add_option("-r,--repetitions", a->repetitions, "timed repetitions (after one warm-up)")
          ->check(CLI::Range(1, 1000))
          ->capture_default_str();
      sub.add_option("--format", a->format, "output: md | csv | json")
          ->check(CLI::IsMember({"md", "csv", "json"}))
          ->capture_default_str();
      sub.add_option("--vulkan-device", a->vulkan_device, "Vulkan device index (-1: best)")->capture_default_str();
      sub.add_option("--vulkan-device-name", a->vulkan_device_name, "Vulkan device name (substring)");
      return [a] { return run_bench(*a); };
    },
    75);

}  // namespace
}  // namespace tessera::cli
