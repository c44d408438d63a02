// Activation ranges for the int8 runtime: the folded model runs over calibration token sequences
// (batched float32, quant/batched_forward.h) and every quantized site records its |values|. int8 sites use min-max (the
// largest |value|) or a percentile of |value| (clipping rare outliers); int32 sites always use the max.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "quant/batched_forward.h"
#include "quant/activation_observer.h"
#include "quant/float_model.h"
#include "tessera/status.h"

namespace tessera::quant {

enum class CalibrationMethod { kMinMax, kPercentile };

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  double percentile = 99.99;  // of |value|, kPercentile only
};

struct ActivationRanges {
  double residual = 0, final_norm = 0, logits = 0;      // max |·|
  std::vector<std::array<double, kSiteCount>> layer;    // clip value per site
  std::vector<std::array<double, kSiteCount>> clipped;  // fraction of |values| above the clip value
  double final_norm_clipped = 0;
  int64_t tokens = 0;
};

// What the precision search reuses from calibration: the first positions of the calibration data
// (whole sequences, the last one cut), their float logits and the values at every restart point
// (quant/batched_forward.h).
struct SearchReference {
  std::vector<std::vector<int32_t>> sequences;
  std::vector<LayerInputs> inputs;  // per sequence
  std::vector<float> logits;        // positions × vocab
  std::vector<int32_t> top1;        // per position
  double logit_power = 0;           // Σ logit²
  int64_t positions = 0;
};

// Every token must be < vocab_size (checked: kInvalidArgument naming the sequence and position).
// `reference` (optional) receives the first `reference_positions` positions for the search.
// progress(done, total) counts tokens, after every sequence.
Result<ActivationRanges> calibrate(BatchedForward& engine, const std::vector<std::vector<int32_t>>& sequences,
                                   const CalibrationOptions& options,
                                   const std::function<void(int64_t done, int64_t total)>& progress = {},
                                   int64_t reference_positions = 0, SearchReference* reference = nullptr);

struct CalibrationFile {
  std::vector<std::vector<int32_t>> sequences;
  // What the quantized GGUF records as its calibration source: the file's content hash and size,
  // never its path, so the output bytes depend only on the data
  // ("file xxh64:<16 hex digits>, <n> sequences, <m> tokens"; `xxhsum -H64 FILE` prints the same hash).
  std::string source;
};

// Reads calibration sequences: one sequence per line, whitespace-separated decimal token ids.
// A regular file only (a FIFO or device is refused).
Result<CalibrationFile> read_calibration_file(const std::string& path, int64_t vocab_size);
// The sequences alone, from a stream; `path` names it in the errors.
Result<std::vector<std::vector<int32_t>>> parse_calibration_sequences(std::istream& in, const std::string& path,
                                                                      int64_t vocab_size);

// Reads a text file through the model's tokenizer (its vocabulary strings) and cuts the tokens into
// sequences of `length` (the last one shorter). Errors name the file and the byte the tokenizer
// cannot encode; an empty file is an error.
Result<CalibrationFile> read_calibration_text(const std::string& path, const std::vector<std::string>& vocabulary,
                                              int64_t length);

// Token ids when every whitespace-separated word of the file is an integer, text otherwise.
enum class CalibrationFormat { kAuto, kTokens, kText };
Result<CalibrationFile> read_calibration(const std::string& path, CalibrationFormat format,
                                         const std::vector<std::string>& vocabulary, int64_t vocab_size,
                                         int64_t text_length);

// MQMTAR training-distribution samples (pairs region 48 ± 16, wrapped [BOS] src [SEP] trg [EOS] minus
// the last token), from runtime/tasks; the model's vocabulary must be the task's (263).
Result<std::vector<std::vector<int32_t>>> mqmtar_calibration_sequences(int64_t vocab_size, int64_t count,
                                                                       uint64_t seed);

// kResourceExhausted, with the numbers, when `count` sequences of `length` tokens (and the float64
// decoder's caches for one) would not fit in this machine's memory: a context_length of 2^31 read
// from a file is refused here instead of allocating until the process is killed.
Status check_calibration_size(const HParams& hp, int64_t count, int64_t length);

// Deterministic uniform random tokens (used when no calibration data is given).
std::vector<std::vector<int32_t>> random_calibration_sequences(int64_t vocab_size, int64_t count, int64_t length,
                                                               uint64_t seed);

}  // namespace tessera::quant
