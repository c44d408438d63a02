// A copy of a Memory Mosaics model in the canonical layout (matrices in float32, as the files store
// them, so that a large model is held once; vectors and scalars in float64), the folding that prepares it
// for quantization (docs/model.md, "Folding for inference"), and the lookup that reads it
// from any source of canonical tensors (a float GGUF via ModelWeights/gguf::File, or tests).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/hparams.h"
#include "tessera/status.h"

namespace tessera::quant {

struct FloatMatrix {
  std::vector<float> w;   // rows × cols, row-major
  std::vector<double> b;  // rows, or empty
  int64_t rows = 0, cols = 0;
};

struct FloatLayer {
  std::vector<double> ln1_w, ln1_b;  // empty: ones / zeros
  FloatMatrix k, v, o;
  std::vector<double> key_decay, key_scale, value_scale, value_mix;  // [H], effective values
  std::vector<double> ln2_w, ln2_b;
  FloatMatrix pk, po;
  std::vector<double> pmem_decay, pmem_query_scale, pmem_value_scale;  // [H]
  std::vector<float> mem_k, mem_v;                                     // [P, H, N, d]
};

struct FloatModel {
  HParams hp;
  FloatMatrix embd;                  // [V, C]
  std::vector<double> out_w, out_b;  // final LayerNorm
  FloatMatrix output;                // [V, C]; a copy of the embedding when tied
  std::vector<FloatLayer> layers;
  std::vector<std::string> tokens;
  std::string name;  // general.name of the source (or its file/folder name)
  bool folded = false;
};

using TensorLookup = std::function<const Tensor*(const std::string& name)>;

// Reads the canonical tensors (F32/F16/BF16 weights). `source` names the input in errors. `copied`
// (optional) is called with each tensor once its values are copied: a mapped file can drop its pages,
// so that the file and the copy are not resident together.
Result<FloatModel> float_model_from_tensors(const HParams& hp, const TensorLookup& find, const std::string& source,
                                            const std::function<void(const Tensor&)>& copied = {});

// Folding, computed in float64 and rounded once to the float32 matrices: LN gains/biases into the next projections,
// value scales into the columns of W_o / W'_o, β'² into M_k, ln_out and logit_scale into an untied output matrix.
// Afterwards every LayerNorm is plain (no affine), value/query scales are 1, logit_scale is 1.
// Fails (kUnsupported) for post-LN models, whose LayerNorm output is the residual itself.
// Takes the model by value: pass an rvalue to fold without holding two copies.
Result<FloatModel> fold(FloatModel m);

std::string block_name(int64_t layer, const std::string& suffix);

}  // namespace tessera::quant
