// `tessera quantize` as a library: fold, (calibrate,) quantize every matrix per output channel and
// emit the tensors of the output GGUF (layout: docs/format.md "Quantized models") with a report.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "quant/calibrate.h"
#include "quant/float_model.h"
#include "quant/precision.h"
#include "quant/quantize_tensor.h"

namespace tessera::quant {

enum class QuantMode {
  kInt8,         // int8 weights + calibrated activation scales: the cpu-int8 backend
  kWeightsOnly,  // int8 weights, float activations (Vulkan / float CPU dequantise per row)
  kF16,          // every float matrix as F16, not folded
};
const char* quant_mode_name(QuantMode m);  // "int8", "weights-only", "f16"

struct QuantizeOptions {
  QuantMode mode = QuantMode::kInt8;
  CalibrationOptions calibration;
  std::vector<std::vector<int32_t>> calibration_sequences;  // kInt8 only
  std::string calibration_source;                           // recorded in the GGUF and the report
  PrecisionOptions precision;                               // kInt8 only: which tensors/sites are int16
  std::function<void(int64_t done, int64_t total)> progress;
};

struct QuantizeReport {
  std::vector<TensorReport> tensors;
  double overall_sqnr_db = 0;
  int64_t calibration_tokens = 0;
  PrecisionReport precision;
  std::string text() const;  // the table the CLI prints
};

struct QuantizedModel {
  HParams hp;                  // logit_scale 1 and untied when folded
  std::vector<Tensor> tensors; // canonical names + ".scale" + activation scales
  std::vector<std::pair<std::string, std::string>> string_metadata;  // extra keys (quantization.*)
  QuantizeReport report;
};

Result<QuantizedModel> quantize_model(const FloatModel& model, const QuantizeOptions& options);

// Finds a tensor by name in a list (for building an Int8Plan straight from a QuantizedModel).
const Tensor* find_in(const std::vector<Tensor>& tensors, const std::string& name);

}  // namespace tessera::quant
