// Decode throughput of the int8 CPU runtime vs the float32 CPU runtime (same random model), on 1 and
// 2 threads, for a fixture-sized model, a mid-sized one and the GPT-2-small-sized config (12 layers,
// C = 768, H = 12, N = 2688, V = 50304). Models are generated once (random weights shaped like the
// authors' init), written as float GGUF + `quantize --int8` GGUF under --model_dir, then loaded
// through the public API. Counters: tokens/s (items), peak RSS of the process (run one case per
// process to attribute it: tools/bench/int8_bench.sh does), model file size.
//   int8_decode_bench --model_dir=DIR [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "quant/model_io.h"
#include "quant/quantize_model.h"
#include "tessera/tessera.h"
#include "model/convert.h"

namespace {

std::string g_model_dir = "/tmp/tessera-int8-bench";
std::string g_shipped_dir = "examples/models";  // --shipped_dir: the repository's trained models
const char* const kShipped[] = {"mqmtar-softmax", "mqmtar-biweight",  "mqmtar-epanechnikov",
                                "mqmtar-relumax", "mqmtar-triweight", "fortunes-char"};

struct Config {
  const char* name;
  int64_t V, C, H, L, N;
};
const Config kConfigs[] = {
    {"fixture", 101, 32, 4, 2, 40},
    {"mid", 4096, 256, 4, 4, 896},
    {"gpt2", 50304, 768, 12, 12, 2688},
};

// Random float model in canonical tensors (authors' init: U(±1/√C) matrices, N(0,1) embedding).
tessera::ConvertedModel random_converted(const Config& c) {
  using namespace tessera;
  ConvertedModel m;
  HParams& hp = m.hparams;
  hp.vocab_size = c.V;
  hp.n_embd = c.C;
  hp.n_head = c.H;
  hp.n_layer = c.L;
  hp.block_size = 512;
  hp.pmem_size = c.N;
  hp.pmem_count = 1;
  hp.logit_scale = float(1.0 / std::sqrt(double(c.C)));
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const float bound = 1.0f / std::sqrt(float(c.C));
  auto add = [&](const std::string& name, std::vector<int64_t> shape, auto gen) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = gen();
    m.tensors.push_back(make_f32_tensor(name, std::move(shape), v));
  };
  auto mat = [&] { return u(rng) * bound; };
  auto one = [] { return 1.0f; };
  const int64_t d = c.C / c.H;
  add("token_embd.weight", {c.V, c.C}, [&] { return nd(rng); });
  add("output_norm.weight", {c.C}, one);
  for (int64_t l = 0; l < c.L; ++l) {
    auto b = [&](const char* s) { return "blk." + std::to_string(l) + "." + s; };
    add(b("attn_norm.weight"), {c.C}, one);
    add(b("attn_k.weight"), {c.C, c.C}, mat);
    add(b("attn_v.weight"), {c.C, c.C}, mat);
    add(b("attn_output.weight"), {c.C, c.C}, mat);
    add(b("attn_key_decay"), {c.H}, [&] { return std::exp(-3.0f + 2.5f * u(rng)); });
    add(b("attn_key_scale"), {c.H}, [&] { return 3.0f + u(rng); });
    add(b("attn_value_scale"), {c.H}, one);
    add(b("attn_value_mix"), {c.H}, [&] { return 0.5f + 0.5f * u(rng); });
    add(b("pmem_norm.weight"), {c.C}, one);
    add(b("pmem_k.weight"), {c.C, c.C}, mat);
    add(b("pmem_output.weight"), {c.C, c.C}, mat);
    add(b("pmem_key_decay"), {c.H}, [&] { return std::exp(-3.0f + 2.5f * u(rng)); });
    add(b("pmem_query_scale"), {c.H}, [&] { return 10.0f + 5.0f * u(rng); });
    add(b("pmem_value_scale"), {c.H}, one);
    add(b("pmem_mem_k"), {1, c.H, c.N, d}, [&] { return nd(rng) / std::sqrt(float(d)); });
    add(b("pmem_mem_v"), {1, c.H, c.N, d}, [&] { return nd(rng) / std::sqrt(float(d)); });
  }
  return m;
}

bool exists(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0;
}
int64_t file_size(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 ? int64_t(st.st_size) : 0;
}

// float GGUF and int8 GGUF of a config, created on first use.
std::string model_path(const Config& c, bool int8) {
  const std::string f32 = g_model_dir + "/" + c.name + ".f32.gguf", q8 = g_model_dir + "/" + c.name + ".int8.gguf";
  if (!exists(f32)) {
    mkdir(g_model_dir.c_str(), 0755);
    tessera::Status st = tessera::write_model_gguf(random_converted(c), f32);
    if (!st.ok()) return "";
  }
  if (int8 && !exists(q8)) {
    auto m = tessera::quant::load_float_model(f32);
    if (!m.ok()) return "";
    tessera::quant::QuantizeOptions o;
    o.calibration_sequences = tessera::quant::random_calibration_sequences(c.V, 4, 32, 1);
    auto q = tessera::quant::quantize_model(*m, o);
    if (!q.ok() || !tessera::quant::write_quantized_gguf(*q, {}, q8).ok()) return "";
  }
  return int8 ? q8 : f32;
}

// Decodes 128-token windows of `path` (random tokens) on one backend; counters: peak RSS, file size.
void decode_loop(benchmark::State& state, const std::string& path, bool int8, int threads, int64_t vocab,
                 const std::string& name) {
  tessera::LoadOptions lo;
  lo.backend = int8 ? tessera::BackendKind::kCpuInt8 : tessera::BackendKind::kCpu;
  lo.threads = threads;
  auto model = tessera::Model::load(path, lo);
  if (!model.ok()) {
    state.SkipWithError(model.status().to_string().c_str());
    return;
  }
  const int64_t window = 128;  // decode positions 0..127, then reset: mean cost over a 128-token context
  tessera::SessionOptions so;
  so.max_tokens = window;
  auto session = tessera::Session::create(**model, so);
  if (!session.ok()) {
    state.SkipWithError(session.status().to_string().c_str());
    return;
  }
  std::mt19937 rng(7);
  int32_t token = 1;
  for (auto _ : state) {
    if ((*session)->position() == window) (*session)->reset();
    if (!(*session)->decode(token).ok()) state.SkipWithError("decode failed");
    token = int32_t(rng() % uint64_t(vocab));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(name + " " + (*model)->info().backend_name);
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  state.counters["peak_rss_MiB"] = double(ru.ru_maxrss) / 1024.0;
  state.counters["file_MiB"] = double(file_size(path)) / (1024.0 * 1024.0);
}

// args: config index, int8 (0/1), threads.
void BM_Decode(benchmark::State& state) {
  const Config& c = kConfigs[state.range(0)];
  const bool int8 = state.range(1) != 0;
  const std::string path = model_path(c, int8);
  if (path.empty()) {
    state.SkipWithError("could not create the model");
    return;
  }
  decode_loop(state, path, int8, int(state.range(2)), c.V, c.name);
}

// The shipped trained models: model.gguf on cpu vs model-int8.gguf (mixed precision as shipped) on
// cpu-int8, 1 thread. args: model index (kShipped), int8 (0/1).
void BM_DecodeShipped(benchmark::State& state) {
  const std::string dir = g_shipped_dir + "/" + kShipped[state.range(0)];
  const bool int8 = state.range(1) != 0;
  const std::string path = dir + (int8 ? "/model-int8.gguf" : "/model.gguf");
  if (!exists(path)) {
    state.SkipWithError(("missing " + path).c_str());
    return;
  }
  decode_loop(state, path, int8, 1, 1, kShipped[state.range(0)]);  // token 1 only: valid in every vocabulary
}
BENCHMARK(BM_DecodeShipped)
    ->ArgNames({"model", "int8"})
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {0, 1}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->MinTime(1.0);

BENCHMARK(BM_Decode)
    ->ArgNames({"config", "int8", "threads"})
    ->ArgsProduct({{0, 1, 2}, {0, 1}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()  // wall clock: the 2-thread cases do work on the pool threads too
    ->MinTime(2.0);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--model_dir=", 12) == 0) g_model_dir = argv[i] + 12;
    else if (std::strncmp(argv[i], "--shipped_dir=", 14) == 0) g_shipped_dir = argv[i] + 14;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
