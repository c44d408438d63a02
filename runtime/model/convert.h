// Authors' checkpoints (regular or EFT Memory Mosaics files, ckpt.pt or safetensors) -> Tessera's
// canonical model: effective per-head scalars, canonical names, hyperparameters, attention method.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "format/checkpoint.h"
#include "model/hparams.h"
#include "tessera/status.h"

namespace tessera {

struct ConvertOptions {
  std::optional<std::string> method;  // overrides/supplies model_args["method"]
  std::optional<int> mask_offset;     // overrides the inferred 1 (authors) / 2 (seed EFT variant)
  bool f16 = false;                   // store matrices, embedding and memories as F16
  std::optional<std::string> name;    // general.name; default: from the input's file or folder name
  // Called after every converted layer (done of total layers), for a progress display.
  std::function<void(int64_t done, int64_t total)> progress;
};

struct ConvertedModel {
  std::string name;  // general.name
  HParams hparams;
  std::vector<Tensor> tensors;         // canonical names (hparams.h), F32 (or F16 when asked)
  std::vector<std::string> tokenizer;  // model_args["tokenizer"] when present
  std::vector<std::string> notes;      // what was inferred or defaulted, for the user
};

Result<ConvertedModel> convert_checkpoint(const Checkpoint& ckpt, const ConvertOptions& options);

// Reads `input`: a ckpt.pt file, a .safetensors file, or a Hugging Face save_pretrained folder
// (model.safetensors, or model-0000i-of-0000N.safetensors shards + model.safetensors.index.json).
// progress(done, total) (optional) counts the bytes read: a ckpt.pt's records checked, or the safetensors
// files' pages read in (they stay mapped; nothing is copied).
Result<Checkpoint> read_any_checkpoint(const std::string& input,
                                       const std::function<void(int64_t done, int64_t total)>& progress = {});

// Writes the GGUF atomically (general.*, memory-mosaics.*, tokenizer, tensors). progress(done, total)
// (optional) counts the bytes written.
Status write_model_gguf(const ConvertedModel& model, const std::string& path,
                        const std::function<void(int64_t done, int64_t total)>& progress = {});
}  // namespace tessera
