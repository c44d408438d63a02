// Teacher-forced MQMTAR accuracy of a loaded Tessera model at one length (the samples of
// tools/reference/eval_mqmtar.py: the same stream mqmtar_eval_seed(seed, length), the same metric).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessera/tessera.h"

namespace tessera::tasks {

struct MqmtarEvalOptions {
  int length = 64;  // pairs region L (64 = 1x)
  int samples = 100;
  uint64_t seed = 1;
};

struct MqmtarEvalResult {
  int length = 0, tokens = 0, samples = 0;  // tokens: model input length T
  int pairs_right = 0, pairs = 0, exact = 0;
  double pair_accuracy() const { return pairs ? 100.0 * pairs_right / pairs : 0.0; }  // percent
  double exact_match() const { return samples ? 100.0 * exact / samples : 0.0; }      // percent
};

// The model must speak the task's vocabulary: 263 ids (0..258 task tokens, BOS 259, SEP 260, EOS 261, PAD 262).
Status check_mqmtar_model(const ModelInfo& info);

// Per sample: prefill all but the last 12 input tokens, then 12 cached decode steps; the argmax at the last 13
// positions is scored. `progress(done, total)` runs after every sample.
Result<MqmtarEvalResult> evaluate_mqmtar(Model& model, const MqmtarEvalOptions& options,
                                         const std::function<void(int, int)>& progress = {});

}  // namespace tessera::tasks

namespace tessera::tasks {
// "1x,2x,4x" (multiples of the 64-token 1x length) or plain token counts "64,100"; errors name the bad item.
Result<std::vector<int>> parse_mqmtar_lengths(const std::string& spec);
}  // namespace tessera::tasks
