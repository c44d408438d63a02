// Activation ranges for the int8 runtime: the folded float64 model runs over calibration token
// sequences and every quantized site records its |values|. int8 sites use min-max (the largest
// |value|) or a percentile of |value| (clipping rare outliers); int32 sites always use the max.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "quant/float_decoder.h"
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
  int64_t tokens = 0;
};

// Every token must be < vocab_size (checked: kInvalidArgument naming the sequence and position).
Result<ActivationRanges> calibrate(const FloatModel& folded, const std::vector<std::vector<int32_t>>& sequences,
                                   const CalibrationOptions& options,
                                   const std::function<void(int64_t done, int64_t total)>& progress = {});

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
