// Random and adversarial score rows for the attention-transform tests.
#pragma once

#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace tessera::testing_rows {

enum class Dist { kGaussian, kUniform, kHeavyTailed, kBetaCos };

inline const char* dist_name(Dist d) {
  switch (d) {
    case Dist::kGaussian: return "gaussian";
    case Dist::kUniform: return "uniform";
    case Dist::kHeavyTailed: return "heavy_tailed";
    case Dist::kBetaCos: return "beta2_cos";
  }
  return "?";
}

// β²·cos-like decode row: cosines between a random unit query and n random unit keys in d = 32
// dimensions, a few keys made close to the query (as in real contexts), times β² ∈ [2, 60].
inline std::vector<float> beta_cos_row(size_t n, float beta2, std::mt19937_64& rng) {
  const int d = 32;
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> q(d);
  double qn = 0;
  for (double& v : q) {
    v = g(rng);
    qn += v * v;
  }
  qn = std::sqrt(qn);
  std::vector<float> s(n);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (size_t i = 0; i < n; ++i) {
    double dot = 0, kn = 0;
    double pull = u(rng) < 0.02 ? 3.0 * u(rng) : 0.0;  // a few keys near the query
    for (int j = 0; j < d; ++j) {
      double k = g(rng) + pull * q[j] / qn * std::sqrt(static_cast<double>(d));
      dot += k * q[j];
      kn += k * k;
    }
    s[i] = static_cast<float>(beta2 * dot / (std::sqrt(kn) * qn));
  }
  return s;
}

inline std::vector<float> random_row(Dist dist, size_t n, std::mt19937_64& rng) {
  std::vector<float> s(n);
  switch (dist) {
    case Dist::kGaussian: {
      std::normal_distribution<float> g(0.0f, 2.0f);
      for (float& v : s) v = g(rng);
      break;
    }
    case Dist::kUniform: {
      std::uniform_real_distribution<float> u(-3.0f, 3.0f);
      for (float& v : s) v = u(rng);
      break;
    }
    case Dist::kHeavyTailed: {
      std::cauchy_distribution<float> c(0.0f, 1.0f);
      for (float& v : s) v = std::fmax(-1e6f, std::fmin(1e6f, c(rng)));
      break;
    }
    case Dist::kBetaCos: {
      std::uniform_real_distribution<float> b(2.0f, 60.0f);
      return beta_cos_row(n, b(rng), rng);
    }
  }
  return s;
}

}  // namespace tessera::testing_rows
