// The quantizer's input and output files: any float model Tessera reads (authors' ckpt.pt,
// safetensors folder, float GGUF) in; a quantized GGUF (docs/format.md "Quantized models") out.
#pragma once

#include <string>

#include "quant/float_model.h"
#include "quant/quantize_model.h"

namespace tessera::quant {

// A GGUF that is already quantized (I8 tensors) is refused with a clear error.
Result<FloatModel> load_float_model(const std::string& input);

// Atomic (temp file + rename): on error nothing is left at `path`. `name` is general.name (FloatModel::name;
// empty: no general.name, so the bytes never depend on the output path).
Status write_quantized_gguf(const QuantizedModel& model, const std::vector<std::string>& tokenizer,
                            const std::string& path, const std::string& name = "");

}  // namespace tessera::quant
