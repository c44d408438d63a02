// The float64 reference forward on the Vulkan test model's weights.
#include "model_oracle.h"

namespace tessera::vk::test {

std::vector<double> oracle_forward(const RandomModel& m, const std::vector<int32_t>& tokens) {
  std::vector<double> logits;
  for (const std::vector<double>& row : testing::reference_logits(m.reference, tokens))
    logits.insert(logits.end(), row.begin(), row.end());
  return logits;
}

}  // namespace tessera::vk::test
