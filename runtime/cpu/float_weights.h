// The float CPU runtime's view of a model: every tensor as float32. F32 tensors point into the
// mapped file (no copy); F16 and weights-only int8 tensors are dequantised once, at load.
#pragma once

#include <memory>
#include <vector>

#include "model/model_weights.h"

namespace tessera::cpu {

struct FloatLayer {
  const float *attn_norm_w = nullptr, *attn_norm_b = nullptr;
  const float *attn_k = nullptr, *attn_k_b = nullptr, *attn_v = nullptr, *attn_v_b = nullptr;
  const float *attn_out = nullptr, *attn_out_b = nullptr;
  const float *pmem_norm_w = nullptr, *pmem_norm_b = nullptr;
  const float *pmem_k = nullptr, *pmem_k_b = nullptr, *pmem_out = nullptr, *pmem_out_b = nullptr;
  const float *mem_k = nullptr, *mem_v = nullptr;  // [P, H, N, d]
};

class FloatWeights {
 public:
  static Result<std::shared_ptr<FloatWeights>> prepare(std::shared_ptr<const ModelWeights> w);
  const ModelWeights& model() const { return *w_; }
  const HParams& hparams() const { return w_->hparams(); }
  const FloatLayer& layer(int64_t i) const { return layers_[size_t(i)]; }
  const float* token_embd() const { return embd_; }
  const float* output() const { return output_; }
  const float *output_norm_w = nullptr, *output_norm_b = nullptr;

 private:
  const float* view(const Tensor& t, const Tensor& scale, int64_t inner);
  std::shared_ptr<const ModelWeights> w_;
  std::vector<FloatLayer> layers_;
  const float* embd_ = nullptr;
  const float* output_ = nullptr;
  std::vector<std::unique_ptr<std::vector<float>>> owned_;
};

}  // namespace tessera::cpu
