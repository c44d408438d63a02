// sparsemax and entmax-1.5 against vectors computed by PyTorch with deep-spin/entmax's sort-based
// formulas (tools/reference/make_entmax_vectors.py → tests/data/entmax/deepspin_vectors.json).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "ops/entmax15.h"
#include "ops/sparsemax.h"

namespace tessera {
namespace {

nlohmann::json load() {
  std::ifstream f(std::string(TESSERA_TEST_DATA) + "/entmax/deepspin_vectors.json");
  EXPECT_TRUE(f.good()) << "missing tests/data/entmax/deepspin_vectors.json";
  return nlohmann::json::parse(f);
}

// Tolerance 2e-6·r per entry: float kernel vs float64 reference on the same float32 scores (see
// entmax_family_checks.h for the derivation). Support: equal except weights below 1e-6.
void check(const char* key, int r, void (*kernel)(const float*, float*, size_t, const uint8_t*, float*)) {
  nlohmann::json doc = load();
  ASSERT_GE(doc["cases"].size(), 19u);
  for (const auto& c : doc["cases"]) {
    std::vector<float> s = c["scores"].get<std::vector<float>>();
    std::vector<double> want = c[key].get<std::vector<double>>();
    ASSERT_EQ(s.size(), want.size());
    std::vector<float> p(s.size()), scratch(s.size());
    kernel(s.data(), p.data(), s.size(), nullptr, scratch.data());
    double total = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      EXPECT_NEAR(p[i], want[i], 2e-6 * r) << key << " " << c["dist"] << " n=" << s.size() << " i=" << i;
      if (want[i] > 1e-6 || p[i] > 1e-6) {
        EXPECT_EQ(p[i] > 0, want[i] > 0) << key << " support i=" << i;
      }
      total += p[i];
    }
    EXPECT_NEAR(total, 1.0, 1e-6) << key;
  }
}

TEST(DeepspinVectors, Sparsemax) { check("sparsemax", 1, ops::sparsemax_row); }
TEST(DeepspinVectors, Entmax15) { check("entmax15", 2, ops::entmax15_row); }

}  // namespace
}  // namespace tessera
