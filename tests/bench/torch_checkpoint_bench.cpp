// Loading a torch.save zip checkpoint: ZIP index + CRC-32 of every record + restricted unpickle +
// storage resolution. The archive is synthetic (64 float32 tensors of 1 MiB, one 64 MiB file in
// the temp folder, page-cached after the first iteration), so the figure is the parser's cost,
// not the disk's. Run: build/bench/torch_checkpoint_bench
#include <benchmark/benchmark.h>

#include <cstdio>

#include "core/file_io.h"
#include "format/checkpoint.h"
#include "format/torch_test_support.h"
#include "format/zip_reader.h"

namespace {

constexpr int kTensors = 64;
constexpr int kElements = 1 << 18;  // 1 MiB of float32 each

std::string synthetic_checkpoint() {
  std::vector<tessera::testing::FakeTensor> tensors;
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < kTensors; ++i)
    tensors.push_back({.name = "layer." + std::to_string(i) + ".weight",
                       .key = std::to_string(i),
                       .numel = kElements,
                       .size = {512, 512},
                       .stride = {512, 1}});
  entries.emplace_back("ckpt/data.pkl", tessera::testing::state_dict_pickle(tensors));
  for (int i = 0; i < kTensors; ++i)
    entries.emplace_back("ckpt/data/" + std::to_string(i), tessera::testing::f32_bytes(kElements));
  return tessera::testing::make_zip(entries);
}

void BM_ReadTorchCheckpoint(benchmark::State& state) {
  static const std::string path = [] {
    const std::string p = "/tmp/tessera_bench_ckpt.pt";
    const std::string bytes = synthetic_checkpoint();
    if (!tessera::write_file_atomically(p, tessera::testing::as_bytes(bytes)).ok()) std::abort();
    return p;
  }();
  size_t bytes = 0;
  for (auto _ : state) {
    auto ck = tessera::read_torch_checkpoint(path);
    if (!ck.ok() || ck->tensors.size() != kTensors) state.SkipWithError("load failed");
    bytes = 0;
    for (const auto& t : ck->tensors) bytes += t.nbytes;
    benchmark::DoNotOptimize(ck);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes));
}
BENCHMARK(BM_ReadTorchCheckpoint)->Unit(benchmark::kMillisecond);

void BM_Crc32(benchmark::State& state) {
  const std::string data(size_t(16) << 20, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(tessera::crc32_ieee(tessera::testing::as_bytes(data)));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(data.size()));
}
BENCHMARK(BM_Crc32)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
