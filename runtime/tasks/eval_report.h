// Accuracy-vs-length results of `tessera eval` and tools/reference/eval_mqmtar.py: one CSV format for both,
// a terminal table, and an SVG line plot (one line per model/backend).
#pragma once

#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::tasks {

struct EvalRow {
  std::string model, method, backend;
  double multiple = 1;  // length / 64
  int length = 0, tokens = 0, samples = 0;
  double pair_accuracy = 0, exact_match = 0;  // percent
};

// Header: model,method,backend,multiple,length,tokens,samples,pair_accuracy,exact_match
std::string eval_rows_to_csv(const std::vector<EvalRow>& rows);
// Parses that CSV (extra header lines from concatenated files are skipped). Errors name `source` and the line;
// an unknown attention transform in the method column is an error.
Result<std::vector<EvalRow>> eval_rows_from_csv(const std::string& text, const std::string& source);
// One line per model/backend, one column per length: "pair% (exact%)".
std::string eval_rows_table(const std::vector<EvalRow>& rows);
// Pair accuracy (0..100) against log2 length; colour by transform, dash pattern by backend.
std::string eval_rows_svg(const std::vector<EvalRow>& rows, const std::string& title);

}  // namespace tessera::tasks
