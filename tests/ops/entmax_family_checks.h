// Shared test suites for the entmax family (sparsemax, α = 1.5, 4/3, general α): each kernel is
// run on random and adversarial rows and compared with the float64 bisection oracle.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include "support/attention_oracle.h"
#include "ops/entmax_exact.h"
#include "row_generators.h"

namespace tessera::testing_rows {

using RowKernel = std::function<void(const float* s, float* p, size_t n, const uint8_t* mask, float* scratch)>;

inline std::vector<float> run_kernel(const RowKernel& k, const std::vector<float>& s,
                                     const std::vector<uint8_t>& mask = {}) {
  std::vector<float> p(s.size(), -7.0f), scratch(s.size() + 1, 0.0f);
  k(s.data(), p.data(), s.size(), mask.empty() ? nullptr : mask.data(), scratch.data());
  return p;
}

// Tolerances (why):
// - Σp within 1e-6 of 1: the required accuracy; τ is exact in double, p is computed in float.
// - support equal to the oracle's except for entries within 1e-6 of τ (on the (α-1)s scale): the
//   required accuracy; entries that close to τ carry weight ≤ (1e-6)^r.
// - |p - p_oracle| ≤ 2e-6·max(1, r): the kernel works on float z = (s - max)/r (≤ 2 ulp, i.e.
//   ≤ 2.4e-7 absolute on the candidates |z| ≤ 1) and τ inherits errors of the same size; p = y^r
//   moves by r·y^(r-1)·(Δz + Δτ) ≤ r·5e-7, plus float rounding of p itself.
inline ::testing::AssertionResult matches_entmax_oracle(double alpha, const std::vector<float>& s,
                                                        const std::vector<uint8_t>& mask, const std::vector<float>& p) {
  const double r = 1.0 / (alpha - 1.0);
  oracle::EntmaxResult o = oracle::entmax(alpha, s, mask);
  bool any_posinf = false, any_usable_finite = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!oracle::usable(mask, i, s[i])) continue;
    any_posinf |= s[i] == std::numeric_limits<float>::infinity();
    any_usable_finite |= std::isfinite(s[i]);
  }
  double total = 0.0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!(p[i] >= 0.0f) || std::isinf(p[i]))
      return ::testing::AssertionFailure() << "p[" << i << "] = " << p[i] << " (not a probability)";
    if (!oracle::usable(mask, i, s[i]) && p[i] != 0.0f)
      return ::testing::AssertionFailure() << "unusable key " << i << " got p = " << p[i];
    total += p[i];
  }
  if (any_posinf) {  // documented: uniform on the +inf keys
    size_t count = 0;
    for (size_t i = 0; i < s.size(); ++i)
      count += oracle::usable(mask, i, s[i]) && s[i] == std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < s.size(); ++i) {
      double want = (oracle::usable(mask, i, s[i]) && s[i] == std::numeric_limits<float>::infinity()) ? 1.0 / count
                                                                                                      : 0.0;
      if (std::fabs(p[i] - want) > 1e-7)
        return ::testing::AssertionFailure() << "+inf row: p[" << i << "] = " << p[i] << " want " << want;
    }
    return ::testing::AssertionSuccess();
  }
  if (!any_usable_finite) {
    if (total != 0.0) return ::testing::AssertionFailure() << "row without usable key: Σp = " << total;
    return ::testing::AssertionSuccess();
  }
  if (std::fabs(total - 1.0) > 1e-6)
    return ::testing::AssertionFailure() << "Σp = " << total << " (|Σp - 1| > 1e-6), n = " << s.size();
  const double tol = 2e-6 * std::max(1.0, r);
  for (size_t i = 0; i < s.size(); ++i) {
    bool in_oracle = o.x[i] > o.tau, in_kernel = p[i] > 0.0f;
    if (in_oracle != in_kernel && std::fabs(o.x[i] - o.tau) > 1e-6)
      return ::testing::AssertionFailure() << "support differs at " << i << ": x - τ = " << o.x[i] - o.tau
                                           << ", p = " << p[i] << ", n = " << s.size();
    if (std::fabs(p[i] - o.p[i]) > tol)
      return ::testing::AssertionFailure()
             << "p[" << i << "] = " << p[i] << " oracle " << o.p[i] << " (tol " << tol << "), n = " << s.size();
  }
  return ::testing::AssertionSuccess();
}

// Random rows of every distribution for n = 1 .. 65536 (fewer rows as n grows: a few seconds total).
inline void random_suite(double alpha, const RowKernel& kernel, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t sizes[] = {1, 2, 3, 5, 8, 17, 64, 100, 255, 1000, 4096, 65536};
  for (Dist d : {Dist::kGaussian, Dist::kUniform, Dist::kHeavyTailed, Dist::kBetaCos}) {
    for (size_t n : sizes) {
      int reps = n <= 100 ? 20 : n <= 4096 ? 3 : 1;
      for (int rep = 0; rep < reps; ++rep) {
        std::vector<float> s = random_row(d, n, rng);
        std::vector<uint8_t> mask;
        if (rep % 2 == 1) {  // every other row: a random 25% of the keys masked
          mask.resize(n);
          std::bernoulli_distribution keep(0.75);
          for (auto& m : mask) m = keep(rng);
        }
        std::vector<float> p = run_kernel(kernel, s, mask);
        ASSERT_TRUE(matches_entmax_oracle(alpha, s, mask, p)) << dist_name(d) << " n=" << n << " rep=" << rep;
      }
    }
  }
}

// The spec's sorted-prefix algorithm without the bracket filter (the benchmarks' "full sort" baseline),
// for α = 1 + 1/r, checked like the fast kernels.
inline void full_sort_suite(double alpha, uint64_t seed) {
  const int r = static_cast<int>(1.0 / (alpha - 1.0) + 0.5);
  RowKernel full_sort = [r](const float* s, float* p, size_t n, const uint8_t* m, float* scratch) {
    ops::entmax_full_sort_row(r, s, p, n, m, scratch);
  };
  random_suite(alpha, full_sort, seed);
}

inline void adversarial_suite(double alpha, const RowKernel& kernel) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto check = [&](const std::vector<float>& s, const std::vector<uint8_t>& mask, const char* what) {
    std::vector<float> p = run_kernel(kernel, s, mask);
    EXPECT_TRUE(matches_entmax_oracle(alpha, s, mask, p)) << what;
    return p;
  };
  // All equal: uniform.
  std::vector<float> p = check(std::vector<float>(1000, 0.25f), {}, "all equal");
  EXPECT_NEAR(p[0], 1e-3, 1e-9);
  // n = 1.
  p = check({-3.5f}, {}, "n = 1");
  EXPECT_EQ(p[0], 1.0f);
  // One dominant entry: exactly one-hot.
  std::vector<float> dom(500, 0.0f);
  dom[123] = 100.0f;
  p = check(dom, {}, "one dominant");
  EXPECT_EQ(p[123], 1.0f);
  // All masked but one.
  std::vector<float> s5 = {4.0f, 1.0f, 7.0f, 2.0f, 3.0f};
  std::vector<uint8_t> one = {0, 1, 0, 0, 0};
  p = check(s5, one, "all masked but one");
  EXPECT_EQ(p[1], 1.0f);
  // All masked: zeros.
  p = check(s5, std::vector<uint8_t>(5, 0), "all masked");
  for (float v : p) EXPECT_EQ(v, 0.0f);
  // Huge and tiny magnitudes, denormals.
  check({1e30f, -1e30f, 1e30f, 5e29f}, {}, "1e30");
  check({1e30f, 1e30f * (1 + 1.2e-7f), -3e30f, 1e29f}, {}, "1e30 near ties");
  check({1e-30f, -1e-30f, 3e-30f, 0.0f}, {}, "1e-30");
  check({1e-40f, 3e-42f, -2e-41f, 1.4e-45f}, {}, "denormals");
  check({3e38f, -3e38f, 3.4e38f, 0.0f}, {}, "near float max");
  // ±inf and NaN: documented results (NaN and -inf keys weigh 0; +inf keys share the mass).
  p = check({1.0f, inf, 2.0f, inf}, {}, "+inf");
  EXPECT_EQ(p[1], 0.5f);
  check({1.0f, -inf, 2.0f, 0.5f}, {}, "-inf");
  check({1.0f, nan, 2.0f, 0.5f}, {}, "NaN");
  p = check({nan, nan}, {}, "all NaN");
  EXPECT_EQ(p[0], 0.0f);
  p = check({-inf, -inf}, {}, "all -inf");
  EXPECT_EQ(p[0] + p[1], 0.0f);
  // Exact ties at τ: entries placed on the oracle's τ of a base row must not change the answer.
  std::mt19937_64 rng(5);
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<float> s = random_row(Dist::kGaussian, 50, rng);
    double tau = oracle::entmax(alpha, s).tau;
    float at_tau = static_cast<float>(tau / (alpha - 1.0));
    for (int j = 0; j < 5; ++j) s.push_back(at_tau);
    check(s, {}, "ties at tau");
  }
  // Many equal maxima plus a tail (long dense support; cancellation in prefix sums).
  std::vector<float> plateau(20000, 5.0f);
  for (size_t i = 0; i < plateau.size(); i += 3) plateau[i] = 5.0f - 1e-4f * (i % 97);
  check(plateau, {}, "plateau");
}

}  // namespace tessera::testing_rows
