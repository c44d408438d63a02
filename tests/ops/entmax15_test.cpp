// ops/entmax15.cpp against the float64 bisection oracle (tests/support/attention_oracle.h).
#include "ops/entmax15.h"

#include <gtest/gtest.h>

#include "entmax_family_checks.h"

namespace tessera::testing_rows {
namespace {

const double kAlpha = 1.5;

TEST(Entmax15, RandomRowsMatchOracle) { random_suite(kAlpha, ops::entmax15_row, 0x5eed + 1); }

TEST(Entmax15, AdversarialRowsMatchOracle) { adversarial_suite(kAlpha, ops::entmax15_row); }

TEST(Entmax15, FullSortBaselineMatchesOracle) { full_sort_suite(kAlpha, 0x5eed + 2); }

}  // namespace
}  // namespace tessera::testing_rows
