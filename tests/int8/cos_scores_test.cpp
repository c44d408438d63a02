// The contextual scores (ops/int8/cos_scores.h): every variant equals the portable kernel bit for bit on
// Q15 vectors of norm ≤ 2^15 (random directions, one-hot ±32767 keys, q = ±k), head widths on and off
// the SIMD path (d % 8), key counts around the 16-key blocks, strided rows, and multipliers over the whole
// range quantize_multiplier produces (shift -31..31, including M = 0 and the saturating left shifts).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ops/int8/cos_scores.h"
#include "host_kernel_tables.h"

namespace tessera::ops::int8 {
namespace {

void unit_q15(std::mt19937& rng, int16_t* v, int64_t d) {
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> x(static_cast<size_t>(d));
  double n2 = 0;
  for (auto& e : x) {
    e = g(rng);
    n2 += e * e;
  }
  const double scale = 32767.0 / std::sqrt(n2 > 0 ? n2 : 1.0);
  for (int64_t i = 0; i < d; ++i) v[i] = int16_t(std::trunc(x[size_t(i)] * scale));  // toward 0: norm ≤ 32767
}

TEST(Int8CosScores, VariantsBitIdenticalToPortable) {
  std::mt19937 rng(31);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const CosScoresFn fn = k->cos_scores;
    ++tested;
    for (int64_t d : {4, 7, 8, 12, 16, 24, 32, 64, 128})
      for (int64_t n : {0, 1, 15, 16, 17, 33, 64, 129})
        for (int trial = 0; trial < 6; ++trial) {
          const int64_t stride = d * 3 + 5;
          std::vector<int16_t> keys(static_cast<size_t>((n + 1) * stride)), q(static_cast<size_t>(d));
          for (int64_t j = 0; j < n; ++j) {
            int16_t* kj = keys.data() + j * stride;
            if (trial == 1 && j % 3 == 0) {  // one-hot keys
              kj[rng() % uint32_t(d)] = rng() % 2 ? 32767 : -32767;
            } else {
              unit_q15(rng, kj, d);
            }
          }
          unit_q15(rng, q.data(), d);
          if (trial == 2 && n > 0)  // q = ±k_0: cosines at ±2^30
            for (int64_t i = 0; i < d; ++i) q[size_t(i)] = int16_t((rng() % 2 ? 1 : -1) * keys[size_t(i)]);
          QuantizedMultiplier m{int32_t((1u << 30) + rng() % (1u << 30)), int32_t(rng() % 63) - 31};
          if (trial == 3) m = {0, 0};
          if (trial == 4) m.shift = int32_t(rng() % 4) + 28;   // left shifts that saturate
          if (trial == 5) m.shift = -int32_t(rng() % 3) - 14;  // the forward pass's range (Q30 → Q16)
          std::vector<int32_t> want(static_cast<size_t>(n) + 1, 7), got(want);
          cos_scores_portable(q.data(), keys.data(), n, stride, d, m, want.data());
          fn(q.data(), keys.data(), n, stride, d, m, got.data());
          ASSERT_EQ(got, want) << k->name << " d=" << d << " n=" << n << " trial=" << trial << " shift=" << m.shift;
        }
  }
  std::printf("cos_scores variants tested: %d\n", tested);
}

}  // namespace
}  // namespace tessera::ops::int8
