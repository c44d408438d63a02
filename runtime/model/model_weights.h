// Typed, validated views of a Tessera GGUF's tensors, grouped the way the forward pass uses them.
// All checks (names, shapes, dtypes, hyperparameters) happen in from_gguf(); backends trust it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "format/gguf.h"
#include "model/hparams.h"
#include "tessera/status.h"

namespace tessera {

// y = W x (+ bias). weight: [rows, cols] F32/F16, or I8 (I16 for the wide tensors of a mixed-precision
// int8 file) with a per-row F32 `scale` ([rows]): real W[r][c] = scale[r] · q[r][c]. Absent bias/scale
// have nbytes == 0.
struct Matrix {
  Tensor weight, scale, bias;
  int64_t rows = 0, cols = 0;
  bool quantized() const { return weight.dtype == DType::kI8 || weight.dtype == DType::kI16; }
};

// LayerNorm affine part; an absent weight means ones, an absent bias zeros.
struct Norm {
  Tensor weight, bias;
};

struct LayerWeights {
  Norm attn_norm;
  Matrix attn_k, attn_v, attn_out;
  // Per head (H floats each), effective values (see hparams.h tensor_names).
  std::vector<float> attn_key_decay, attn_key_scale, attn_value_scale, attn_value_mix;
  // Persistent memory (absent when attn_only).
  Norm pmem_norm;
  Matrix pmem_k, pmem_out;
  std::vector<float> pmem_key_decay, pmem_query_scale, pmem_value_scale;
  Tensor pmem_mem_k, pmem_mem_v;  // [P, H, N, d], F32/F16 (I8 + "<name>.scale" [P, H, N] when quantized)
  Tensor pmem_mem_k_scale, pmem_mem_v_scale;
};

class ModelWeights {
 public:
  static Result<std::shared_ptr<ModelWeights>> from_gguf(std::shared_ptr<const gguf::File> file);
  // Reads the hyperparameters only (for inspect / quick checks).
  static Result<HParams> read_hparams(const gguf::File& file);

  const HParams& hparams() const { return hp_; }
  const Matrix& token_embd() const { return token_embd_; }  // [V, C] (rows gathered)
  const Norm& output_norm() const { return output_norm_; }
  const Matrix& output() const { return output_; }  // [V, C]; the embedding itself when tied
  bool tied_output() const { return tied_; }
  const LayerWeights& layer(int64_t i) const { return layers_[size_t(i)]; }
  const gguf::File& file() const { return *file_; }
  const std::vector<std::string>& tokenizer_tokens() const { return tokens_; }

 private:
  HParams hp_;
  Matrix token_embd_, output_;
  Norm output_norm_;
  bool tied_ = true;
  std::vector<LayerWeights> layers_;
  std::shared_ptr<const gguf::File> file_;
  std::vector<std::string> tokens_;
};

}  // namespace tessera
