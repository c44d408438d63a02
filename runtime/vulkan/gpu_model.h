// The model's weights on the device, uploaded once per backend.
#pragma once

#include <memory>
#include <vector>

#include "vulkan/gpu_tensors.h"
#include "vulkan/model_view.h"

namespace tessera::vk {

struct GpuLayer {
  GpuNorm attn_norm, pmem_norm;
  GpuMatrix attn_k, attn_v, attn_out, pmem_k, pmem_out;
  // Per head: a_h, beta_h^2, value scale, value mix c_h, (A, B) of the ReLU transforms.
  BufferSlice key_decay, key_beta2, value_scale, value_mix, relu_params;
  BufferSlice pmem_decay, pmem_query_scale, pmem_value_scale;
  BufferSlice pmem_mem_k, pmem_mem_v;  // [P, H, N, d] float32
};

struct GpuModel {
  HParams hp;
  GpuMatrix token_embd, output;
  GpuNorm output_norm;
  std::vector<GpuLayer> layers;
  BufferSlice ones_h;  // H ones
  float logit_scale = 1.0f;
};

// Validates what the shaders assume (head_dim, widths) and uploads every tensor.
Result<std::unique_ptr<GpuModel>> upload_model(Context& context, const ModelView& model);

}  // namespace tessera::vk
