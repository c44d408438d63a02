// Many sessions of one model decoding at once on the CPU backends: S sessions on S threads, the model
// loaded with T threads (its pool, shared by the sessions). Each iteration creates the sessions and
// decodes 64 tokens in each; items = tokens decoded by all sessions, wall-clock time. The model is the
// concurrency test's (C = 512, 2 layers, 128 memory slots, V = 256: every projection takes the pool's
// parallel path), written once as F16 (cpu) and int8 (cpu-int8) GGUF under --model_dir.
//   concurrent_sessions_bench --model_dir=DIR [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/random_model.h"
#include "quant/calibrate.h"
#include "quant/model_io.h"
#include "quant/quantize_model.h"
#include "tessera/tessera.h"

namespace {

std::string g_model_dir = "/tmp/tessera-concurrency-bench";
constexpr int64_t kVocab = 256;
constexpr int kTokens = 64;

std::string model_path(bool int8) {
  const std::string path = g_model_dir + (int8 ? "/wide-int8.gguf" : "/wide-f16.gguf");
  static std::map<std::string, bool> written;
  if (written[path]) return path;
  const tessera::quant::FloatModel m = tessera::testing::random_float_model(kVocab, 512, 8, 2, 128, 11);
  tessera::quant::QuantizeOptions o;
  o.mode = int8 ? tessera::quant::QuantMode::kInt8 : tessera::quant::QuantMode::kF16;
  if (int8) o.calibration_sequences = tessera::quant::random_calibration_sequences(kVocab, 2, 16, 5);
  auto q = tessera::quant::quantize_model(m, o);
  if (!q.ok() || !tessera::quant::write_quantized_gguf(*q, {}, path).ok()) return "";
  written[path] = true;
  return path;
}

void BM_ConcurrentSessions(benchmark::State& state) {
  const bool int8 = state.range(0) != 0;
  const int sessions = int(state.range(1)), threads = int(state.range(2));
  std::error_code ec;
  std::filesystem::create_directories(g_model_dir, ec);
  const std::string path = model_path(int8);
  tessera::LoadOptions lo;
  lo.backend = int8 ? tessera::BackendKind::kCpuInt8 : tessera::BackendKind::kCpu;
  lo.threads = threads;
  if (path.empty()) {
    state.SkipWithError(("cannot write the model under " + g_model_dir).c_str());
    return;
  }
  auto model = tessera::Model::load(path, lo);
  if (!model.ok()) {
    state.SkipWithError(model.status().to_string().c_str());
    return;
  }
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (int s = 0; s < sessions; ++s)
      pool.emplace_back([&, s] {
        tessera::SessionOptions so;
        so.max_tokens = kTokens;
        auto session = tessera::Session::create(**model, so);
        if (!session.ok()) return;
        int32_t tok = s;
        for (int t = 0; t < kTokens && (*session)->decode(tok).ok(); ++t) tok = (tok * 31 + t) % int32_t(kVocab);
      });
    for (auto& t : pool) t.join();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * sessions * kTokens);
  state.SetLabel(std::string(int8 ? "cpu-int8" : "cpu") + " sessions=" + std::to_string(sessions) +
                 " threads=" + std::to_string(threads));
}
// backend (0 cpu, 1 cpu-int8) × sessions × model threads.
BENCHMARK(BM_ConcurrentSessions)
    ->ArgsProduct({{0, 1}, {1, 8}, {1, 2}})
    ->ArgNames({"int8", "sessions", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--model_dir=", 12) == 0) g_model_dir = argv[i] + 12;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
