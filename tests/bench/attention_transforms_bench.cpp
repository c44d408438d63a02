// Per-row time of the attention transforms on decode-like rows (one query over n cached keys,
// scores β²·cos with β² = 8, as the PyTorch reference figures in docs/benchmarks.md), n = 64 … 65536:
// Tessera exact vs full sort vs bisection (24 and 50 iterations, entmax_bisect style) vs softmax,
// float and fixed point. Run: build/bench/attention_transforms_bench
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "ops/entmax15.h"
#include "ops/entmax43.h"
#include "ops/entmax_alpha.h"
#include "ops/entmax_exact.h"
#include "ops/fixed/attention_fixed.h"
#include "ops/norm_relu.h"
#include "ops/relumax.h"
#include "ops/softmax.h"
#include "ops/sparsemax.h"
#include "ops/topk.h"

namespace {

constexpr int kRows = 4;  // rotate a few rows so that nothing is memorised

// β²·cos rows: random unit query and keys in d = 64, 2% of keys pulled towards the query.
std::vector<std::vector<float>> make_rows(size_t n, float beta2) {
  std::mt19937_64 rng(n * 7 + 1);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const int d = 64;
  std::vector<std::vector<float>> rows(kRows, std::vector<float>(n));
  for (auto& row : rows) {
    std::vector<float> q(d);
    float qn = 0;
    for (float& v : q) {
      v = g(rng);
      qn += v * v;
    }
    qn = std::sqrt(qn);
    for (float& v : q) v /= qn;
    for (size_t i = 0; i < n; ++i) {
      float pull = u(rng) < 0.02f ? 2.0f * u(rng) : 0.0f;
      float dot = 0, kn = 0;
      for (int j = 0; j < d; ++j) {
        float k = g(rng) / std::sqrt(float(d)) + pull * q[j];
        dot += k * q[j];
        kn += k * k;
      }
      row[i] = beta2 * dot / std::sqrt(kn);
    }
  }
  return rows;
}

template <class Fn>
void run_rows(benchmark::State& state, Fn fn) {
  const size_t n = static_cast<size_t>(state.range(0));
  auto rows = make_rows(n, 8.0f);
  std::vector<float> p(n), scratch(n);
  int r = 0;
  for (auto _ : state) {
    fn(rows[r].data(), p.data(), n, scratch.data());
    benchmark::DoNotOptimize(p.data());
    benchmark::ClobberMemory();
    r = (r + 1) % kRows;
  }
  state.SetItemsProcessed(state.iterations());  // rows
}

// entmax_bisect-style baseline: bisection on τ over all n keys for a fixed number of iterations,
// then renormalisation (what deep-spin/entmax's entmax_bisect does, in float32).
template <int R>
void bisect_row(const float* s, float* p, size_t n, int iterations) {
  const float a1 = 1.0f / R;
  float m = -INFINITY;
  for (size_t i = 0; i < n; ++i) m = s[i] * a1 > m ? s[i] * a1 : m;
  float lo = m - 1.0f, hi = m - std::pow(float(n), -1.0f / R);
  for (int it = 0; it < iterations; ++it) {
    float mid = 0.5f * (lo + hi), f = -1.0f;
    for (size_t i = 0; i < n; ++i) {
      float y = s[i] * a1 - mid;
      y = y > 0 ? y : 0;
      f += R == 1 ? y : R == 2 ? y * y : y * y * y;
    }
    (f >= 0 ? lo : hi) = mid;
  }
  float tau = 0.5f * (lo + hi), total = 0;
  for (size_t i = 0; i < n; ++i) {
    float y = s[i] * a1 - tau;
    y = y > 0 ? y : 0;
    total += p[i] = R == 1 ? y : R == 2 ? y * y : y * y * y;
  }
  for (size_t i = 0; i < n; ++i) p[i] /= total;
}

using namespace tessera::ops;

void BM_Softmax(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float*) { softmax_row(s, p, n, nullptr); });
}
void BM_Sparsemax(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float* w) { sparsemax_row(s, p, n, nullptr, w); });
}
void BM_Entmax15(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float* w) { entmax15_row(s, p, n, nullptr, w); });
}
void BM_Entmax43(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float* w) { entmax43_row(s, p, n, nullptr, w); });
}
void BM_EntmaxAlpha125(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float* w) { entmax_alpha_row(1.25, s, p, n, nullptr, w); });
}
template <int R>
void BM_FullSort(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float* w) { entmax_full_sort_row(R, s, p, n, nullptr, w); });
}
template <int R, int Iterations>
void BM_Bisect(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float*) { bisect_row<R>(s, p, n, Iterations); });
}
void BM_Relumax(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float*) { relumax_row(s, p, n, nullptr, 8.0f, 1.0f); });
}
void BM_NormRelu(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float*) { norm_relu_row(s, p, n, nullptr, 16.0f, -15.0f); });
}
void BM_Top4Softmax(benchmark::State& st) {
  run_rows(st, [](const float* s, float* p, size_t n, float* w) { topk_softmax_row(4, s, p, n, nullptr, w); });
}

// Fixed point: the same rows quantised to int32 with S = 2^-16.
void run_fixed(benchmark::State& state, tessera::ops::fixed::FixedRowTransform t) {
  using namespace tessera::ops::fixed;
  const size_t n = static_cast<size_t>(state.range(0));
  auto rows = make_rows(n, 8.0f);
  std::vector<std::vector<int32_t>> q(kRows, std::vector<int32_t>(n));
  for (int r = 0; r < kRows; ++r)
    for (size_t i = 0; i < n; ++i) q[r][i] = static_cast<int32_t>(std::lround(rows[r][i] * 65536.0f));
  std::vector<int32_t> p(n), scratch(fixed_scratch_words(t.kind, n) + 1);
  const ScoreScale scale{1 << 30, -15};
  int r = 0;
  for (auto _ : state) {
    attention_transform_fixed(t, q[r].data(), scale, p.data(), n, nullptr, scratch.data());
    benchmark::DoNotOptimize(p.data());
    benchmark::ClobberMemory();
    r = (r + 1) % kRows;
  }
  state.SetItemsProcessed(state.iterations());
}
using tessera::ops::fixed::FixedKind;
void BM_FixedSparsemax(benchmark::State& st) { run_fixed(st, {FixedKind::kSparsemax}); }
void BM_FixedEntmax15(benchmark::State& st) { run_fixed(st, {FixedKind::kEntmax15}); }
void BM_FixedEntmax43(benchmark::State& st) { run_fixed(st, {FixedKind::kEntmax43}); }
void BM_FixedRelumax(benchmark::State& st) { run_fixed(st, {FixedKind::kReluMax}); }
void BM_FixedTop4Softmax(benchmark::State& st) { run_fixed(st, {FixedKind::kTopKSoftmax, 4}); }

#define SIZES RangeMultiplier(4)->Range(64, 65536)->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_Softmax)->SIZES;
BENCHMARK(BM_Sparsemax)->SIZES;
BENCHMARK(BM_Entmax15)->SIZES;
BENCHMARK(BM_Entmax43)->SIZES;
BENCHMARK(BM_EntmaxAlpha125)->SIZES;
BENCHMARK(BM_FullSort<1>)->SIZES;
BENCHMARK(BM_FullSort<2>)->SIZES;
BENCHMARK(BM_FullSort<3>)->SIZES;
BENCHMARK(BM_Bisect<1, 24>)->SIZES;
BENCHMARK(BM_Bisect<1, 50>)->SIZES;
BENCHMARK(BM_Bisect<2, 24>)->SIZES;
BENCHMARK(BM_Bisect<2, 50>)->SIZES;
BENCHMARK(BM_Bisect<3, 50>)->SIZES;
BENCHMARK(BM_Relumax)->SIZES;
BENCHMARK(BM_NormRelu)->SIZES;
BENCHMARK(BM_Top4Softmax)->SIZES;
BENCHMARK(BM_FixedSparsemax)->SIZES;
BENCHMARK(BM_FixedEntmax15)->SIZES;
BENCHMARK(BM_FixedEntmax43)->SIZES;
BENCHMARK(BM_FixedRelumax)->SIZES;
BENCHMARK(BM_FixedTop4Softmax)->SIZES;

}  // namespace

BENCHMARK_MAIN();
