// Mixed precision for the int8 runtime: which weight tensors are stored as int16 and which int8
// activation sites run at 16 bits. The choice is a per-tensor sensitivity analysis (quantize one
// candidate at a time, the rest float; measure top-1 agreement and logit error against the float
// model on the calibration positions, restarting from the values calibration cached at the first
// point of the forward pass the candidate changes), then the shortest prefix of the most sensitive candidates promoted
// to 16 bits with which the simulated all-quantized model reaches the agreement target (found by doubling, then
// bisection). Why it is needed: docs/numerics.md "Accuracy, and what needs more bits".
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "quant/calibrate.h"
#include "quant/float_model.h"

namespace tessera::quant {

enum class PrecisionMode {
  kInt8,   // everything int8 (the pre-mixed-precision files)
  kAuto,   // sensitivity analysis + greedy promotion (the CLI default)
  kInt16,  // every candidate at 16 bits
};
const char* precision_mode_name(PrecisionMode m);  // "int8", "auto", "int16"

struct PrecisionOptions {
  PrecisionMode mode = PrecisionMode::kInt8;  // the library default; `tessera quantize` defaults to kAuto
  double target_agreement = 99.5;             // % of simulated calibration positions (top-1 vs the float64 model)
  int64_t max_positions = 2048;               // calibration positions the search simulates (a prefix of the data)
  // ... and at most this many multiply-adds per simulated pass (positions × BatchedForward::macs_per_token),
  // so that a large model's search stays minutes long; at least 64 positions are kept.
  int64_t max_pass_macs = int64_t(1) << 34;
  // The per-candidate sensitivity passes simulate the first this many positions (0: all of them). Fewer
  // is faster but ranks worse: with 512 of 2048 the authors' fb-regular-softmax fixture lost 2 of 24 positions.
  int64_t sensitivity_positions = 0;
  // Candidates kept at 16 bits whatever the mode says (int8 and auto modes; names as precision_candidates()).
  std::vector<std::string> force_int16;
};

// Candidate names: weight tensors by their canonical GGUF name ("blk.0.attn_k.weight", "pmem_mem_k"
// without a suffix as in the file), activation sites as "blk.<i>.act.h1|o|h2|r" and "act.final_norm".
std::vector<std::string> precision_candidates(const HParams& hp);
std::string activation_site_name(int64_t layer, Site site);
inline constexpr const char* kFinalNormSite = "act.final_norm";

struct SensitivityRow {
  std::string name;
  int64_t agree = 0;     // positions whose top-1 matches with only this candidate at 8 bits
  double rel_error = 0;  // RMS logit error / RMS logit
  bool wide = false;     // chosen for 16 bits
};

struct PrecisionReport {
  PrecisionMode mode = PrecisionMode::kAuto;
  std::vector<SensitivityRow> rows;  // most sensitive first (kAuto only)
  int64_t positions = 0;
  int64_t agree_int8 = -1, agree_chosen = -1;  // simulated; -1: not simulated
  std::string text() const;
};

struct PrecisionPlan {
  std::set<std::string> wide;  // candidates at 16 bits
  PrecisionReport report;
  bool is_wide(const std::string& name) const { return wide.count(name) != 0; }
};

// The calibration positions the search simulates for this model.
int64_t search_positions(const PrecisionOptions& options, int64_t macs_per_token, int64_t vocab_size);

// progress(done, total) counts simulated passes (total is an estimate until the end).
Result<PrecisionPlan> choose_precision(BatchedForward& engine, const ActivationRanges& ranges,
                                       const SearchReference& reference, const PrecisionOptions& options,
                                       const std::function<void(int64_t done, int64_t total)>& progress = {});

// The scale of an int8 (qmax 127) or int16 (qmax 32512) activation site for a calibrated clip value.
double activation_scale(double clip, bool wide);

}  // namespace tessera::quant
