// The float32 persistent-memory read the quantizer's batched forward pass uses, against a float64
// evaluation of the same formula on the same float inputs, and bit for bit against the scalar float32
// operations its eight lanes perform. This file is built twice (CMakeLists.txt): against the library,
// where an AVX2 machine runs the x86-64-v3 clone, and as int8_pmem_read_portable_test with pmem_read.cpp
// compiled without multiversioning or AVX (each eight-lane vector in two SSE registers).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "ops/row_common.h"
#include "quant/pmem_read.h"

namespace tessera {
namespace {

struct Case {
  int64_t N, d;
  float query_scale;
};

// acc[i] = weight · Σ_n softmax(s·q·k_n)_n v_n[i] in double.
std::vector<double> reference(const std::vector<float>& q, float s, const std::vector<float>& keys,
                              const std::vector<float>& values, int64_t N, int64_t d, double weight) {
  std::vector<double> score(static_cast<size_t>(N)), out(static_cast<size_t>(d), 0.0);
  double mx = -INFINITY, z = 0;
  for (int64_t n = 0; n < N; ++n) {
    double dot = 0;
    for (int64_t i = 0; i < d; ++i) dot += double(q[size_t(i)]) * keys[size_t(n * d + i)];
    score[size_t(n)] = double(s) * dot;
    mx = std::max(mx, score[size_t(n)]);
  }
  for (double& x : score) z += (x = std::exp(x - mx));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < d; ++i) out[size_t(i)] += weight * score[size_t(n)] / z * values[size_t(n * d + i)];
  return out;
}

TEST(PmemRead, MatchesFloat64) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  // N and d with and without vector tails; query scales from a flat softmax to a folded β'² ≈ 2·10⁴.
  for (const Case& c : {Case{256, 16, 1.0f}, Case{256, 16, 20.0f}, Case{13, 20, 5.0f}, Case{100, 64, 20.0f},
                        Case{256, 16, 2.0e4f}, Case{7, 3, 2.0f}}) {
    const int64_t N = c.N, d = c.d;
    std::vector<float> q(static_cast<size_t>(d)), keys(static_cast<size_t>(N * d));
    std::vector<float> keys_t(keys.size()), values(keys.size());
    double n2 = 0;
    for (float& x : q) {
      x = g(rng);
      n2 += double(x) * x;
    }
    for (float& x : q) x = float(x / std::sqrt(n2));  // a unit query, as the model's
    for (float& x : keys) x = g(rng) / std::sqrt(float(d));
    for (float& x : values) x = g(rng);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < d; ++i) keys_t[size_t(i * N + n)] = keys[size_t(n * d + i)];
    const float weight = 0.5f;
    const std::vector<double> want = reference(q, c.query_scale, keys, values, N, d, weight);
    std::vector<float> scores(static_cast<size_t>(quant::kPmemReadBlock * N)),
        acc(static_cast<size_t>(d), 1.0f);  // adds to what acc holds
    quant::pmem_read(q.data(), d, 1, c.query_scale, keys_t.data(), values.data(), N, d, weight, scores.data(),
                     acc.data(), d);
    double vmax = 0;
    for (float v : values) vmax = std::max(vmax, double(std::fabs(v)));
    // A score s·q·k carries float32 rounding of ~d·6e-8·s (relative weights move by as much), the
    // exponentials 3e-7 and the sums ~N·6e-8: together below (2e-6 + 1e-6·s)·max|v|.
    const double tol = (2e-6 + 1e-6 * c.query_scale) * vmax;
    for (int64_t i = 0; i < d; ++i)
      EXPECT_NEAR(double(acc[size_t(i)]) - 1.0, want[size_t(i)], tol) << "N " << N << " d " << d << " i " << i;
  }
}

// Slots 30 below the maximum get weight 0: a one-hot softmax returns exactly the top slot's value.
TEST(PmemRead, NegligibleSlotsAreLeftOut) {
  const int64_t N = 9, d = 4;
  std::vector<float> q = {1, 0, 0, 0}, keys_t(static_cast<size_t>(N * d), 0.0f), values(keys_t.size());
  for (int64_t n = 0; n < N; ++n) keys_t[size_t(n)] = n == 5 ? 1.0f : 0.9f;  // gap 0.1 · 400 = 40 > 30
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i) * 0.25f;
  std::vector<float> scores(static_cast<size_t>(quant::kPmemReadBlock * N)), acc(static_cast<size_t>(d), 0.0f);
  quant::pmem_read(q.data(), d, 1, 400.0f, keys_t.data(), values.data(), N, d, 1.0f, scores.data(), acc.data(), d);
  for (int64_t i = 0; i < d; ++i) EXPECT_EQ(acc[size_t(i)], values[size_t(5 * d + i)]);
}

// Positions read together give each position's one-at-a-time result, bit for bit.
TEST(PmemRead, BlocksOfPositionsGiveTheSameBits) {
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (int64_t d : {16, 12, 5}) {
    const int64_t N = 37, T = 7;
    std::vector<float> q(static_cast<size_t>(T * d)), keys_t(static_cast<size_t>(N * d)), values(keys_t.size());
    for (float& x : q) x = g(rng) * 0.3f;
    for (float& x : keys_t) x = g(rng) * 4.0f;
    for (float& x : values) x = g(rng);
    std::vector<float> scores(static_cast<size_t>(quant::kPmemReadBlock * N));
    std::vector<float> together(static_cast<size_t>(T * d), 0.0f), alone(together.size(), 0.0f);
    quant::pmem_read(q.data(), d, T, 3.0f, keys_t.data(), values.data(), N, d, 1.0f, scores.data(), together.data(), d);
    for (int64_t t = 0; t < T; ++t)
      quant::pmem_read(q.data() + t * d, d, 1, 3.0f, keys_t.data(), values.data(), N, d, 1.0f, scores.data(),
                       alone.data() + t * d, d);
    EXPECT_EQ(together, alone) << "d " << d;
  }
}

// quant/pmem_read.cpp one float at a time, in its order: each score summed over the dimensions in order,
// the maximum, ops::exp_nonpositive of the shifted score (0 below -30), the total by ops::sum_row, and each
// output summed over the slots in order, slots of weight 0 skipped. Each lane of the eight-lane code does
// these IEEE operations and no others (no FMA contraction on either side: -ffp-contract=off), so every
// build of it, AVX2 or SSE, must give these bits.
void scalar_read(const float* q, float query_scale, const float* keys_t, const float* values, int64_t N, int64_t d,
                 float weight, float* acc) {
  std::vector<float> w(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    float s = 0;
    for (int64_t i = 0; i < d; ++i) s += (q[i] * query_scale) * keys_t[i * N + n];
    w[size_t(n)] = s;
  }
  float mx = -INFINITY;
  for (float s : w) mx = std::max(mx, s);
  for (float& s : w) {
    const float e = s - mx;
    s = e < -30.0f ? 0.0f : ops::exp_nonpositive(e);
  }
  const float inv = float(double(weight) / ops::sum_row(w.data(), w.size()));
  for (int64_t i = 0; i < d; ++i)
    for (int64_t n = 0; n < N; ++n)
      if (w[size_t(n)] != 0.0f) acc[i] += (w[size_t(n)] * inv) * values[n * d + i];
}

// Every vector path and tail: N and d below, at and past multiples of 8; 1 to 7 positions (blocks of 4, 3,
// 2 and 1); query scales from a flat softmax to one where most slots fall below -30 and are skipped.
TEST(PmemRead, EightLanesGiveTheScalarBits) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  int64_t compared = 0;
  for (int64_t N : {1, 7, 8, 13, 37, 256})
    for (int64_t d : {1, 3, 8, 12, 16, 21, 64})
      for (float query_scale : {1.0f, 20.0f, 2.0e4f}) {
        const int64_t T = 7;
        std::vector<float> q(static_cast<size_t>(T * d)), keys_t(static_cast<size_t>(N * d)), values(keys_t.size());
        for (float& x : q) x = g(rng) / std::sqrt(float(d));
        for (float& x : keys_t) x = g(rng) / std::sqrt(float(d));
        for (float& x : values) x = g(rng);
        std::vector<float> acc(q.size());
        for (float& x : acc) x = g(rng);  // pmem_read adds to acc
        std::vector<float> want = acc;
        for (int64_t t = 0; t < T; ++t)
          scalar_read(q.data() + t * d, query_scale, keys_t.data(), values.data(), N, d, 0.75f, want.data() + t * d);
        std::vector<float> scores(static_cast<size_t>(quant::kPmemReadBlock * N));
        quant::pmem_read(q.data(), d, T, query_scale, keys_t.data(), values.data(), N, d, 0.75f, scores.data(),
                         acc.data(), d);
        for (size_t k = 0; k < acc.size(); ++k, ++compared)
          ASSERT_EQ(std::bit_cast<uint32_t>(acc[k]), std::bit_cast<uint32_t>(want[k]))
              << "N " << N << " d " << d << " scale " << query_scale << " position " << k / size_t(d) << " i "
              << k % size_t(d) << ": " << acc[k] << " vs scalar " << want[k];
      }
  EXPECT_EQ(compared, 3 * 7 * (1 + 3 + 8 + 12 + 16 + 21 + 64) * 6);
}

}  // namespace
}  // namespace tessera
