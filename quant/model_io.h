// The quantizer's input and output files: any float model Tessera reads (authors' ckpt.pt,
// safetensors folder, float GGUF) in; a quantized GGUF (docs/format.md "Quantized models") out.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "model/model_weights.h"
#include "quant/float_model.h"
#include "quant/quantize_model.h"

namespace tessera::quant {

// A GGUF that is already quantized (I8 tensors) is refused with a clear error.
Result<FloatModel> load_float_model(const std::string& input);

// Atomic (temp file + rename): on error nothing is left at `path`. `name` is general.name (FloatModel::name;
// empty: no general.name, so the bytes never depend on the output path).
Status write_quantized_gguf(const QuantizedModel& model, const std::vector<std::string>& tokenizer,
                            const std::string& path, const std::string& name = "");

// The GGUF bytes write_quantized_gguf writes.
Result<std::vector<std::byte>> quantized_gguf_bytes(const QuantizedModel& model,
                                                    const std::vector<std::string>& tokenizer = {},
                                                    const std::string& name = "");

// The validated view of a quantized model held in memory: its GGUF bytes, parsed and checked by
// ModelWeights::from_gguf exactly as a file would be (`source` names it in error messages). The view owns
// the bytes, so it does not depend on `model` living on.
Result<std::shared_ptr<const ModelWeights>> quantized_model_view(const QuantizedModel& model,
                                                                 const std::string& source = "quantized model");

}  // namespace tessera::quant
