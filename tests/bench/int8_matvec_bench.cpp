// int8 × int8 → int32 matvec kernels side by side (portable, AVX2, AVX-512 VNNI, NEON dot where the CPU
// has them) on the GPT-2-small shapes: 768×768 (the C×C projections) and 50304×768 (the head).
//   int8_matvec_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "ops/int8/int8_kernels.h"

namespace {

using tessera::ops::int8::Isa;

void BM_Matvec(benchmark::State& state) {
  const auto isa = Isa(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2);
  if (!tessera::ops::int8::isa_supported(isa, tessera::ops::int8::host_cpu_features())) {
    state.SkipWithError("kernel table not available on this CPU");
    return;
  }
  std::mt19937 rng(1);
  std::vector<int8_t> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(cols));
  for (auto& v : w) v = int8_t(int(rng() % 255) - 127);
  for (auto& v : x) v = int8_t(int(rng() % 256) - 128);
  std::vector<int32_t> y(static_cast<size_t>(rows));
  const auto fn = tessera::ops::int8::int8_kernels_for(isa).matvec;
  for (auto _ : state) {
    fn(w.data(), rows, cols, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * rows * cols);  // multiply-adds
  state.SetLabel(tessera::ops::int8::isa_name(isa));
}

BENCHMARK(BM_Matvec)
    ->ArgNames({"kernel", "rows", "cols"})
    ->ArgsProduct({{int(Isa::kPortable), int(Isa::kAvx2), int(Isa::kAvx512Vnni), int(Isa::kNeonDot)},
                   {768, 50304},
                   {768}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
