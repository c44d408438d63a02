// ops/sparsemax.cpp against the float64 bisection oracle (tests/support/attention_oracle.h).
#include "ops/sparsemax.h"

#include <gtest/gtest.h>

#include "entmax_family_checks.h"

namespace tessera::testing_rows {
namespace {

const double kAlpha = 2.0;

TEST(Sparsemax, RandomRowsMatchOracle) { random_suite(kAlpha, ops::sparsemax_row, 0x5eed + 1); }

TEST(Sparsemax, AdversarialRowsMatchOracle) { adversarial_suite(kAlpha, ops::sparsemax_row); }

TEST(Sparsemax, FullSortBaselineMatchesOracle) { full_sort_suite(kAlpha, 0x5eed + 2); }

}  // namespace
}  // namespace tessera::testing_rows
