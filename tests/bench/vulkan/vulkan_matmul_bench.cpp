// The prompt-chunk matrix product alone (shaders/matmul.comp and shaders/matmul_coopmat_nv.comp), GPU
// time from timestamp queries (manual time):
//   BM_Matmul/<rows>/<outputs>/<ln>/<coop>: y = W x' over `rows` float32 token rows of C = 768, F16
//     weights of `outputs` x 768 (768: the output and persistent-memory projections; 1536: keys and
//     values together), x' = LayerNorm(x) on the fly when ln = 1; coop = 1 allows the cooperative-matrix
//     kernel (counter coopmat: 1 when it ran). Counters: us, TFLOP/s (2 · rows · outputs · 768 / time).
// Run: vulkan_matmul_bench --benchmark_counters_tabular=true [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <memory>
#include <random>

#include "core/tensor.h"
#include "support/stored_rows.h"
#include "vulkan/gpu_tensors.h"
#include "vulkan/ops.h"
#include "vulkan/recording.h"
#include "vulkan/vulkan_backend_impl.h"

namespace tessera::bench {
namespace {

constexpr uint32_t kChannels = 768;
std::unique_ptr<vk::Context> context;  // destroyed in main(), before the driver's own teardown

std::vector<float> uniform(size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

void BM_Matmul(benchmark::State& state) {
  const uint32_t rows = uint32_t(state.range(0)), outputs = uint32_t(state.range(1)), K = kChannels;
  const bool ln = state.range(2) != 0, coop = state.range(3) != 0;
  if (!context) {
    auto c = vk::Context::create({});
    if (!c.ok()) {
      state.SkipWithError(c.status().to_string().c_str());
      return;
    }
    context = std::move(c).value();
  }
  vk::Context& ctx = *context;
  vk::BlockAllocator alloc = ctx.make_device_allocator();
  std::mt19937 rng(3);
  Matrix m;
  m.rows = outputs;
  m.cols = K;
  m.weight = testing::stored_rows("w", uniform(size_t(outputs) * K, rng, -0.05f, 0.05f), {outputs, K}, outputs,
                                  DType::kF16, nullptr);
  Norm norm;
  norm.weight = make_f32_tensor("g", {K}, uniform(K, rng, 0.5f, 1.5f));
  norm.bias = make_f32_tensor("b", {K}, uniform(K, rng, -0.1f, 0.1f));
  auto gm = vk::upload_matrix(ctx, m, "bench");
  auto gn = vk::upload_norm(ctx, norm, K, "bench");
  auto x = alloc.allocate(VkDeviceSize(rows) * K * 4, "x");
  auto y = alloc.allocate(VkDeviceSize(rows) * outputs * 4, "y");
  auto rec = vk::Recording::create(ctx, 2);
  Status s = !gm.ok()   ? gm.status()
             : !gn.ok() ? gn.status()
             : !x.ok()  ? x.status()
             : !y.ok()  ? y.status()
                        : Status::ok_status();
  if (s.ok()) {
    const std::vector<float> xv = uniform(size_t(rows) * K, rng, -2.0f, 2.0f);
    s = ctx.write(*x, std::as_bytes(std::span(xv)));
  }
  if (s.ok()) s = (*rec)->begin();
  if (s.ok()) {
    (*rec)->timestamp(0);
    s = vk::record_matmul(**rec, ctx, *gm, {*x, 0, K}, {*y, 0, outputs}, rows, false, 1.0f, ln ? &*gn : nullptr, 1e-5f,
                          coop, nullptr);
    (*rec)->timestamp(1);
  }
  if (s.ok()) s = (*rec)->end();
  if (s.ok()) s = (*rec)->submit();  // warm-up (pipeline creation)
  if (!s.ok()) {
    state.SkipWithError(s.to_string().c_str());
    return;
  }
  double total = 0;
  for (auto _ : state) {
    (void)(*rec)->submit();
    const double ns = (*rec)->elapsed_ns(0, 1).value();
    total += ns;
    state.SetIterationTime(ns * 1e-9);
  }
  const double mean_ns = total / double(state.iterations());
  state.counters["us"] = mean_ns * 1e-3;
  state.counters["TFLOP/s"] = 2.0 * rows * outputs * K / mean_ns * 1e-3;
  state.counters["coopmat"] = coop && vk::matmul_uses_cooperative_matrix(ctx, vk::WeightType::kF16) ? 1 : 0;
  state.SetLabel(ctx.info().name);
}

BENCHMARK(BM_Matmul)
    ->ArgsProduct({{512, 2048}, {768, 1536}, {0, 1}, {1, 0}})
    ->ArgNames({"rows", "outputs", "ln", "coop"})
    ->UseManualTime()
    ->Iterations(20)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  tessera::bench::context.reset();
  benchmark::Shutdown();
  return 0;
}
