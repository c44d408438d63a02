// What the Vulkan backend consumes: the validated tensors of a model, as a plain struct, so that
// tests and benchmarks can build random models without a GGUF file.
#pragma once

#include <vector>

#include "model/model_weights.h"

namespace tessera::vk {

struct ModelView {
  HParams hp;
  Matrix token_embd, output;  // output = token_embd when tied
  Norm output_norm;
  std::vector<LayerWeights> layers;

  static ModelView of(const ModelWeights& w) {
    ModelView v;
    v.hp = w.hparams();
    v.token_embd = w.token_embd();
    v.output = w.output();
    v.output_norm = w.output_norm();
    for (int64_t i = 0; i < v.hp.n_layer; ++i) v.layers.push_back(w.layer(i));
    return v;
  }
};

// The transform's ReLU parameters for heads with score scale beta^2, in the forms the CPU runtime
// uses (runtime/ops/attention_transform.h): relumax p ∝ relu(relu_scale (s - max s) + relu_bias),
// norm_relu p ∝ relu(relu_scale s + relu_bias), s = beta^2 cos.
struct ReluParams {
  double relu_scale = 1.0, relu_bias = 1.0;
};
ReluParams relu_params_for(const AttentionMethod& method, double beta2);

}  // namespace tessera::vk
