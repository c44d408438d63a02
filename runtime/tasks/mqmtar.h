// MQMTAR (multi-query multi-token associative recall): the seed paper's length-generalisation task, in the format
// of deep-spin/asentmax (see docs/mqmtar.md, "Task format"). Sequences are bit-identical to
// tools/tasks/mqmtar.py for the same seed: both draw from the same splitmix64 stream in the same order.
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/status.h"

namespace tessera::tasks {

// Token ids of the task and of the seed code's sequence wrapping.
inline constexpr int32_t kMqmtarSpace = 0, kMqmtarKvSep = 1, kMqmtarQuerySep = 2, kMqmtarAlphabetStart = 3;
inline constexpr int32_t kMqmtarBos = 259, kMqmtarSep = 260, kMqmtarEos = 261, kMqmtarPad = 262;
inline constexpr int32_t kMqmtarVocabSize = 263;
inline constexpr int kMqmtarTargetTokens = 13;    // 4 x (2 v1 v2) + EOS, read teacher-forced
inline constexpr int kMqmtarEvalBaseLength = 64;  // 1x

// splitmix64 (Steele, Lea, Flood 2014): small, fast, and trivially the same in Python.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, n) by rejection (no modulo bias); n > 0.
  uint64_t below(uint64_t n);

 private:
  uint64_t state_;
};

struct MqmtarSample {
  std::vector<int32_t> source;  // pairs region + 4 queries
  std::vector<int32_t> target;  // 2 v1 v2, 4 times
  // [BOS] source [SEP] target [EOS]; the model reads all but the last token.
  std::vector<int32_t> wrapped() const;
};

class Mqmtar {
 public:
  // Builds the 10,000 distinct keys and values from `seed`'s stream (asentmax defaults).
  explicit Mqmtar(uint64_t seed);
  // One sample whose pairs region has length in [length - vary, length + vary]; errors if too short.
  Result<MqmtarSample> sample(int length, int vary = 0);
  const std::vector<int32_t>& key(size_t i) const { return keys_[i]; }
  const std::vector<int32_t>& value(size_t i) const { return values_[i]; }
  size_t vocabulary() const { return keys_.size(); }

 private:
  std::vector<int32_t> word(uint64_t index) const;
  SplitMix64 rng_;
  std::vector<std::vector<int32_t>> keys_, values_;
};

// The stream used for evaluation length `length` (each length has its own vocabulary, as asentmax regenerates per
// split): base_seed * 1000003 + length.
uint64_t mqmtar_eval_seed(uint64_t base_seed, int length);

struct MqmtarScore {
  int pairs_right = 0;
  int pairs = 0;
  bool exact = false;
};
// `predicted` holds the argmax ids at the last 13 input positions (predicting target + EOS).
MqmtarScore mqmtar_score(const std::vector<int32_t>& predicted, const std::vector<int32_t>& target);

}  // namespace tessera::tasks
