// The model's weights on the device, uploaded once per backend.
#pragma once

#include <memory>
#include <vector>

#include "vulkan/gpu_tensors.h"
#include "vulkan/ops.h"
#include "vulkan/model_view.h"

namespace tessera::vk {

struct GpuLayer {
  GpuNorm attn_norm, pmem_norm;
  GpuMatrix attn_kv;  // [W_k; W_v]: rows 0..C-1 give u, C..2C-1 give w (one dispatch)
  GpuMatrix attn_out, pmem_k, pmem_out;
  // Per head: a_h, beta_h^2, value scale, value mix c_h, (A, B) of the ReLU transforms.
  BufferSlice key_decay, key_beta2, value_scale, value_mix, relu_params;
  // kv_project's parameters in one buffer (kv_project_params: attn_kv's row scales and bias,
  // attn_norm, key decay, value mix, value scale), so that kernel binds 8 storage buffers.
  BufferSlice kv_params;
  // Per head (pmem_prefill_coopmat_nv.comp binds them; the other kernels read pmem_params).
  BufferSlice pmem_decay, pmem_query_scale, pmem_value_scale;
  // pmem_params(): pmem_k's row scales and bias, pmem_norm, the three above and the I8 slots' scales,
  // so the persistent-memory kernels bind at most 8 storage buffers.
  BufferSlice pmem_params;
  // [P, H, N, d] in their stored type (F32, F16, or I8 with a scale per slot), else widened to F32.
  PmemSlots pmem_slots;
};

struct GpuModel {
  HParams hp;
  GpuMatrix token_embd, output;
  GpuNorm output_norm;
  std::vector<GpuLayer> layers;
  BufferSlice ones_h;  // H ones
  float logit_scale = 1.0f;
};

// The persistent-memory slots of one layer (stored type kept where the shaders can read it).
Result<PmemSlots> upload_pmem_slots(Context& context, const LayerWeights& w, int64_t head_dim, const std::string& what);

// Validates what the shaders assume (head_dim, widths) and uploads every tensor.
Result<std::unique_ptr<GpuModel>> upload_model(Context& context, const ModelView& model);

}  // namespace tessera::vk
