// GGUF -> ModelWeights: every name, shape and dtype is checked here, once, at load.
#include "model/model_weights.h"

#include <cmath>

#include "model/hparams_gguf.h"

namespace tessera {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

class Loader {
 public:
  explicit Loader(const gguf::File& f) : f_(f) {}

  Result<Tensor> tensor(const std::string& name, const std::vector<int64_t>& shape, bool allow_quantized) {
    const Tensor* t = f_.find_tensor(name);
    if (!t) return not_found(f_.name() + ": tensor '" + name + "' is missing");
    if (t->shape != shape)
      return invalid_argument(f_.name() + ": tensor '" + name + "': expected shape " + shape_str(shape) +
                              ", found " + t->shape_string());
    const bool ok_type = t->dtype == DType::kF32 || t->dtype == DType::kF16 ||
                         (allow_quantized && (t->dtype == DType::kI8 || t->dtype == DType::kI16));
    if (!ok_type)
      return invalid_argument(f_.name() + ": tensor '" + name + "': expected type F32 or F16" +
                              std::string(allow_quantized ? " or I8/I16" : "") + ", found " +
                              std::string(dtype_name(t->dtype)));
    return *t;
  }
  Result<Tensor> optional(const std::string& name, const std::vector<int64_t>& shape) {
    if (!f_.find_tensor(name)) return Tensor{};
    return tensor(name, shape, false);
  }
  // Per-row scale of an I8 (or I16, a wide tensor of a mixed-precision int8 file) tensor: "<name>.scale"
  // F32 with the leading dims of `shape`.
  Result<Tensor> scale_for(const Tensor& w, std::vector<int64_t> rows_shape) {
    if (w.dtype != DType::kI8 && w.dtype != DType::kI16) return Tensor{};
    TESSERA_ASSIGN_OR_RETURN(Tensor s, tensor(w.name + ".scale", rows_shape, false));
    if (s.dtype != DType::kF32)
      return invalid_argument(f_.name() + ": tensor '" + s.name + "': expected type F32, found " +
                              std::string(dtype_name(s.dtype)));
    return s;
  }
  Result<Matrix> matrix(const std::string& stem, int64_t rows, int64_t cols, bool bias) {
    Matrix m;
    m.rows = rows;
    m.cols = cols;
    TESSERA_ASSIGN_OR_RETURN(m.weight, tensor(stem + ".weight", {rows, cols}, true));
    TESSERA_ASSIGN_OR_RETURN(m.scale, scale_for(m.weight, {rows}));
    if (bias) {
      TESSERA_ASSIGN_OR_RETURN(m.bias, optional(stem + ".bias", {rows}));
    }
    return m;
  }
  Result<Norm> norm(const std::string& stem, int64_t C, bool bias) {
    Norm n;
    TESSERA_ASSIGN_OR_RETURN(n.weight, optional(stem + ".weight", {C}));
    if (bias) {
      TESSERA_ASSIGN_OR_RETURN(n.bias, optional(stem + ".bias", {C}));
    }
    return n;
  }
  // Per-head vector as floats; `check` validates each value (finite, in range).
  Result<std::vector<float>> heads(const std::string& name, int64_t H, const char* what, bool positive) {
    TESSERA_ASSIGN_OR_RETURN(Tensor t, tensor(name, {H}, false));
    std::vector<float> v = tensor_to_f32(t);
    for (size_t h = 0; h < v.size(); ++h)
      if (!std::isfinite(v[h]) || (positive && !(v[h] > 0)))
        return invalid_argument(f_.name() + ": tensor '" + name + "' head " + std::to_string(h) + ": expected a " +
                                (positive ? "positive " : "") + "finite " + what + ", found " + std::to_string(v[h]));
    return v;
  }

 private:
  const gguf::File& f_;
};

}  // namespace

Result<HParams> ModelWeights::read_hparams(const gguf::File& file) { return tessera::read_hparams(file); }

Result<std::shared_ptr<ModelWeights>> ModelWeights::from_gguf(std::shared_ptr<const gguf::File> file) {
  auto w = std::shared_ptr<ModelWeights>(new ModelWeights());
  w->file_ = file;
  const gguf::File& f = *file;
  TESSERA_ASSIGN_OR_RETURN(w->hp_, tessera::read_hparams(f));
  const HParams& hp = w->hp_;
  const int64_t C = hp.n_embd, H = hp.n_head, d = hp.head_dim(), V = hp.vocab_size;
  Loader L(f);
  TESSERA_ASSIGN_OR_RETURN(w->token_embd_, L.matrix("token_embd", V, C, false));
  TESSERA_ASSIGN_OR_RETURN(w->output_norm_, L.norm("output_norm", C, hp.bias));
  w->tied_ = f.find_tensor(tensor_names::kOutput) == nullptr;
  if (w->tied_) {
    w->output_ = w->token_embd_;
  } else {
    TESSERA_ASSIGN_OR_RETURN(w->output_, L.matrix("output", V, C, false));
  }
  w->layers_.resize(size_t(hp.n_layer));
  for (int64_t i = 0; i < hp.n_layer; ++i) {
    LayerWeights& l = w->layers_[size_t(i)];
    auto stem = [&](const char* s) { return "blk." + std::to_string(i) + "." + s; };
    TESSERA_ASSIGN_OR_RETURN(l.attn_norm, L.norm(stem("attn_norm"), C, hp.bias));
    TESSERA_ASSIGN_OR_RETURN(l.attn_k, L.matrix(stem("attn_k"), C, C, hp.bias));
    TESSERA_ASSIGN_OR_RETURN(l.attn_v, L.matrix(stem("attn_v"), C, C, hp.bias));
    TESSERA_ASSIGN_OR_RETURN(l.attn_out, L.matrix(stem("attn_output"), C, C, hp.bias));
    TESSERA_ASSIGN_OR_RETURN(l.attn_key_decay, L.heads(stem(tensor_names::kAttnDecay), H, "decay", false));
    TESSERA_ASSIGN_OR_RETURN(l.attn_key_scale, L.heads(stem(tensor_names::kAttnKeyScale), H, "key scale", true));
    TESSERA_ASSIGN_OR_RETURN(l.attn_value_scale, L.heads(stem(tensor_names::kAttnValueScale), H, "value scale", false));
    TESSERA_ASSIGN_OR_RETURN(l.attn_value_mix, L.heads(stem(tensor_names::kAttnValueMix), H, "value mix", false));
    for (float a : l.attn_key_decay)
      if (!(a >= 0 && a < 1))
        return invalid_argument(f.name() + ": tensor '" + stem(tensor_names::kAttnDecay) +
                                "': expected decays in [0, 1), found " + std::to_string(a));
    if (hp.attn_only) continue;
    TESSERA_ASSIGN_OR_RETURN(l.pmem_norm, L.norm(stem("pmem_norm"), C, hp.bias));
    TESSERA_ASSIGN_OR_RETURN(l.pmem_k, L.matrix(stem("pmem_k"), C, C, hp.bias));
    TESSERA_ASSIGN_OR_RETURN(l.pmem_out, L.matrix(stem("pmem_output"), C, C, hp.bias));
    TESSERA_ASSIGN_OR_RETURN(l.pmem_key_decay, L.heads(stem(tensor_names::kPmemDecay), H, "decay", false));
    TESSERA_ASSIGN_OR_RETURN(l.pmem_query_scale, L.heads(stem(tensor_names::kPmemQueryScale), H, "query scale", true));
    TESSERA_ASSIGN_OR_RETURN(l.pmem_value_scale, L.heads(stem(tensor_names::kPmemValueScale), H, "value scale", false));
    for (float a : l.pmem_key_decay)
      if (!(a >= 0 && a < 1))
        return invalid_argument(f.name() + ": tensor '" + stem(tensor_names::kPmemDecay) +
                                "': expected decays in [0, 1), found " + std::to_string(a));
    const std::vector<int64_t> mem_shape{hp.pmem_count, H, hp.pmem_size, d};
    TESSERA_ASSIGN_OR_RETURN(l.pmem_mem_k, L.tensor(stem(tensor_names::kPmemMemK), mem_shape, true));
    TESSERA_ASSIGN_OR_RETURN(l.pmem_mem_v, L.tensor(stem(tensor_names::kPmemMemV), mem_shape, true));
    TESSERA_ASSIGN_OR_RETURN(l.pmem_mem_k_scale, L.scale_for(l.pmem_mem_k, {hp.pmem_count, H, hp.pmem_size}));
    TESSERA_ASSIGN_OR_RETURN(l.pmem_mem_v_scale, L.scale_for(l.pmem_mem_v, {hp.pmem_count, H, hp.pmem_size}));
  }
  if (f.has(keys::kTokenizerTokens)) {
    TESSERA_ASSIGN_OR_RETURN(w->tokens_, f.get_string_array(keys::kTokenizerTokens));
    if (int64_t(w->tokens_.size()) != V)
      return invalid_argument(f.name() + ": " + keys::kTokenizerTokens + ": expected " + std::to_string(V) +
                              " tokens (vocab_size), found " + std::to_string(w->tokens_.size()));
  }
  return w;
}

}  // namespace tessera
