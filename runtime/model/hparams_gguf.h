// Hyperparameters <-> GGUF metadata (memory-mosaics.* keys), shared by convert, quantize and load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "format/gguf.h"
#include "model/hparams.h"

namespace tessera {

// general.file_type values: llama.cpp's llama_ftype where one describes the file. Tessera's quantized files
// (I8/I16 with per-row F32 scales) match none of llama.cpp's block formats, so they say "not specified"
// (LLAMA_FTYPE_GUESSED); memory-mosaics.quantization.mode says what they are.
enum class GgufFileType : uint32_t { kAllF32 = 0, kMostlyF16 = 1, kNotSpecified = 1024 };
// The GGML quantization version llama.cpp's converters write (GGML_QNT_VERSION).
inline constexpr uint32_t kGgmlQuantizationVersion = 2;
inline constexpr const char* kConverterVersionKey = "tessera.converter_version";

// The type of most of the data: any I8/I16 tensor -> not specified; else F16 matrices -> mostly F16; else F32.
GgufFileType file_type_of(const std::vector<Tensor>& tensors);
// A model name from a file or folder: ".../gpt2/ckpt.pt" and ".../gpt2/" -> "gpt2", ".../x.gguf" -> "x".
std::string model_name_from_path(const std::string& path);

// general.architecture, general.name (when not empty), general.file_type, general.quantization_version,
// tessera.converter_version, general.alignment, then the memory-mosaics.* keys.
void write_hparams(gguf::Writer& w, const HParams& hp, const std::string& model_name,
                   GgufFileType file_type = GgufFileType::kAllF32);
void write_tokenizer(gguf::Writer& w, const std::vector<std::string>& tokens);
// Reads and validates; errors name the file and key.
Result<HParams> read_hparams(const gguf::File& f);

}  // namespace tessera
