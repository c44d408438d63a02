// ops/entmax43.cpp against the float64 bisection oracle (tests/support/attention_oracle.h).
#include "ops/entmax43.h"

#include <gtest/gtest.h>

#include "entmax_family_checks.h"

namespace tessera::testing_rows {
namespace {

const double kAlpha = 4.0 / 3.0;

TEST(Entmax43, RandomRowsMatchOracle) { random_suite(kAlpha, ops::entmax43_row, 0x5eed + 1); }

TEST(Entmax43, AdversarialRowsMatchOracle) { adversarial_suite(kAlpha, ops::entmax43_row); }

TEST(Entmax43, FullSortBaselineMatchesOracle) { full_sort_suite(kAlpha, 0x5eed + 2); }

}  // namespace
}  // namespace tessera::testing_rows
