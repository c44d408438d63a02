// Memory Mosaics models with random weights, built in memory: `tessera bench --random-model` measures a
// device without a model file, and tests get shapes and options the authors' fixtures lack. The weights are random
// (the outputs mean nothing); the shapes, per-head scalars and arithmetic are those of a real model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/convert.h"
#include "quant/quantize_model.h"

namespace tessera::quant {

// The presets (docs/cli.md, `tessera bench`):
//   gpt2-small: 12 layers, C = 768, 12 heads, N = 2688 memory slots, vocab 50304, block 1024
//   small:       6 layers, C = 512,  8 heads, N = 1024, vocab 8192, block 512
//   tiny:        2 layers, C = 128,  4 heads, N = 64,   vocab 512,  block 128
// `method` is any AttentionMethod::parse name. kInvalidArgument names the unknown preset or method.
Result<HParams> random_model_preset(const std::string& preset, const std::string& method);
const std::vector<std::string>& random_model_preset_names();

struct RandomModelOptions {
  uint64_t seed = 7;
  bool untied = false;        // a separate output matrix (weight_tying off)
  bool clamped_head = false;  // head 0 of every module on the β clamp (β = e^5, β² = e^10)
  bool f16 = false;           // matrices stored as F16 (vectors stay F32)
};

// Canonical tensors (the converter's names and effective per-head scalars), float32 unless options.f16: matrices
// ~ N(0, 1/C), the embedding (and an untied head) ~ N(0, 1), biases (hp.bias) ~ N(0, 0.01), memory slots
// ~ N(0, 1/d), LayerNorm gains U(0.5, 1.5), decays U(0.05, 0.95), β U(1.2, 7), value scales U(0.6, 1.4), mixes
// U(-0.2, 1.2). Seeded (std::mt19937_64; the distributions are the standard library's, so another library may
// draw other values). hp.logit_scale 0 becomes 1/sqrt(C). The tests build their random models here
// (tests/support/random_model.h).
ConvertedModel make_random_model(const HParams& hp, const RandomModelOptions& options = {});

// The GGUF bytes of a float model (what `tessera convert` would write), for Model::load_from_memory.
Result<std::vector<std::byte>> model_gguf_bytes(const ConvertedModel& model);

// The int8 model of `model` (weights per output channel, activations calibrated on `calibration_sequences`
// random sequences of `calibration_length` tokens) as GGUF bytes, for the cpu-int8 backend.
Result<std::vector<std::byte>> quantized_int8_gguf_bytes(const ConvertedModel& model, int64_t calibration_sequences,
                                                         int64_t calibration_length, int threads);

// Parameters of a canonical model: the elements of every tensor.
int64_t parameter_count(const std::vector<Tensor>& tensors);

}  // namespace tessera::quant
