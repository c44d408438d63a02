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
  int threads = 1;                                          // calibration and search; the output does not depend on it
  int value_cache_bits = 16;  // kInt8 only: 8 caches the attention's unit values as Q7 int8 (no weight changes)
  // Called during every phase: "calibrating" (tokens), "searching" (simulated passes), "quantizing" (tensors).
  std::function<void(const char* phase, int64_t done, int64_t total)> progress;
};

// CPU seconds used by the process so far (all threads): the phase figures that a busy machine distorts less.
double process_cpu_seconds();

// Per activation site of an int8 file: the calibrated clip value, the scale and the bits stored.
struct ActivationReport {
  std::string name;  // activation_site_name() / kFinalNormSite, or "blk.<i>.act.u|w|u2", "act.residual", "act.logits"
  double clip = 0, scale = 0, clipped_fraction = 0;
  int bits = 8;
};

struct QuantizeReport {
  std::vector<TensorReport> tensors;
  double overall_sqnr_db = 0;
  int64_t calibration_tokens = 0;
  PrecisionReport precision;
  std::vector<ActivationReport> activations;                      // kInt8 only
  std::vector<std::pair<std::string, double>> phase_seconds;      // wall time of each phase, in order
  std::vector<std::pair<std::string, double>> phase_cpu_seconds;  // CPU time of the process (all threads)
  std::string text() const;                                       // the table the CLI prints
  std::string json() const;                                       // the same, and the activation sites, for --report
};

struct QuantizedModel {
  HParams hp;                                                        // logit_scale 1 and untied when folded
  std::vector<Tensor> tensors;                                       // canonical names + ".scale" + activation scales
  std::vector<std::pair<std::string, std::string>> string_metadata;  // extra keys (quantization.*)
  QuantizeReport report;
};

Result<QuantizedModel> quantize_model(const FloatModel& model, const QuantizeOptions& options);
// The same, folding `model` in place (one float64 copy of the weights instead of two).
Result<QuantizedModel> quantize_model(FloatModel&& model, const QuantizeOptions& options);

// Finds a tensor by name in a list (for building an Int8Plan straight from a QuantizedModel).
const Tensor* find_in(const std::vector<Tensor>& tensors, const std::string& name);

}  // namespace tessera::quant
