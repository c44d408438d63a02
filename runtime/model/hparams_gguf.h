// Hyperparameters <-> GGUF metadata (memory-mosaics.* keys), shared by convert, quantize and load.
#pragma once

#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/hparams.h"

namespace tessera {

void write_hparams(gguf::Writer& w, const HParams& hp, const std::string& model_name);
void write_tokenizer(gguf::Writer& w, const std::vector<std::string>& tokens);
// Reads and validates; errors name the file and key.
Result<HParams> read_hparams(const gguf::File& f);

}  // namespace tessera
