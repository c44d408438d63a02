// ops/sparsemax.cpp against the float64 bisection oracle (tests/ops/attention_oracle.h).
#include "ops/sparsemax.h"

#include <gtest/gtest.h>

#include "entmax_family_checks.h"
#include "ops/entmax_exact.h"

namespace tessera::testing_rows {
namespace {

const double kAlpha = 2.0;

TEST(Sparsemax, RandomRowsMatchOracle) { random_suite(kAlpha, ops::sparsemax_row, 0x5eed + 1); }

TEST(Sparsemax, AdversarialRowsMatchOracle) { adversarial_suite(kAlpha, ops::sparsemax_row); }

TEST(Sparsemax, FullSortBaselineMatchesOracle) {
  const int r = static_cast<int>(1.0 / (kAlpha - 1.0) + 0.5);
  RowKernel full_sort = [r](const float* s, float* p, size_t n, const uint8_t* m, float* scratch) {
    ops::entmax_full_sort_row(r, s, p, n, m, scratch);
  };
  random_suite(kAlpha, full_sort, 0x5eed + 2);
}

}  // namespace
}  // namespace tessera::testing_rows
