#include "cpu/float_weights.h"

#include <cstdint>
#include <cstring>

namespace tessera::cpu {

// `inner`: elements per scale entry for I8 / I16 tensors (a row of a matrix, a slot of a memory).
const float* FloatWeights::view(const Tensor& t, const Tensor& scale, int64_t inner) {
  if (t.nbytes == 0) return nullptr;
  if (t.dtype == DType::kF32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
    return reinterpret_cast<const float*>(t.data);
  auto v = std::make_unique<std::vector<float>>(tensor_to_f32(t));
  if (t.dtype == DType::kI8 || t.dtype == DType::kI16) {
    auto s = scale.as<float>();
    for (size_t i = 0; i < v->size(); ++i) (*v)[i] *= s[i / size_t(inner)];
  }
  owned_.push_back(std::move(v));
  return owned_.back()->data();
}

Result<std::shared_ptr<FloatWeights>> FloatWeights::prepare(std::shared_ptr<const ModelWeights> w) {
  auto f = std::shared_ptr<FloatWeights>(new FloatWeights());
  f->w_ = w;
  const HParams& hp = w->hparams();
  const int64_t d = hp.head_dim();
  auto mat = [&](const Matrix& m) { return f->view(m.weight, m.scale, m.cols); };
  auto vec = [&](const Tensor& t) { return f->view(t, Tensor{}, 1); };
  f->embd_ = mat(w->token_embd());
  f->output_ = w->tied_output() ? f->embd_ : mat(w->output());
  f->output_norm_w = vec(w->output_norm().weight);
  f->output_norm_b = vec(w->output_norm().bias);
  f->layers_.resize(size_t(hp.n_layer));
  for (int64_t i = 0; i < hp.n_layer; ++i) {
    const LayerWeights& l = w->layer(i);
    FloatLayer& o = f->layers_[size_t(i)];
    o.attn_norm_w = vec(l.attn_norm.weight);
    o.attn_norm_b = vec(l.attn_norm.bias);
    o.attn_k = mat(l.attn_k);
    o.attn_k_b = vec(l.attn_k.bias);
    o.attn_v = mat(l.attn_v);
    o.attn_v_b = vec(l.attn_v.bias);
    o.attn_out = mat(l.attn_out);
    o.attn_out_b = vec(l.attn_out.bias);
    if (hp.attn_only) continue;
    o.pmem_norm_w = vec(l.pmem_norm.weight);
    o.pmem_norm_b = vec(l.pmem_norm.bias);
    o.pmem_k = mat(l.pmem_k);
    o.pmem_k_b = vec(l.pmem_k.bias);
    o.pmem_out = mat(l.pmem_out);
    o.pmem_out_b = vec(l.pmem_out.bias);
    o.mem_k = f->view(l.pmem_mem_k, l.pmem_mem_k_scale, d);
    o.mem_v = f->view(l.pmem_mem_v, l.pmem_mem_v_scale, d);
  }
  return f;
}

}  // namespace tessera::cpu
