// ops/entmax_alpha.cpp (general α) against the float64 bisection oracle.
#include "ops/entmax_alpha.h"

#include <gtest/gtest.h>

#include "entmax_family_checks.h"

namespace tessera::testing_rows {
namespace {

RowKernel alpha_kernel(double alpha) {
  return [alpha](const float* s, float* p, size_t n, const uint8_t* m, float* scratch) {
    ops::entmax_alpha_row(alpha, s, p, n, m, scratch);
  };
}

class EntmaxAlpha : public ::testing::TestWithParam<double> {};

TEST_P(EntmaxAlpha, RandomRowsMatchOracle) { random_suite(GetParam(), alpha_kernel(GetParam()), 77); }

TEST_P(EntmaxAlpha, AdversarialRowsMatchOracle) { adversarial_suite(GetParam(), alpha_kernel(GetParam())); }

// α = 2, 1.5 and 4/3 through the general path cover the closed forms' cases; 1.25, 1.75, 3 are
// general (non-integer exponent, and r < 1 where f is concave in τ).
INSTANTIATE_TEST_SUITE_P(Alphas, EntmaxAlpha, ::testing::Values(1.25, 4.0 / 3.0, 1.5, 1.75, 2.0, 3.0));

}  // namespace
}  // namespace tessera::testing_rows
