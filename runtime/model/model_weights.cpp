// GGUF -> ModelWeights: every name, shape and dtype is checked here, once, at load.
#include "model/model_weights.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/printable.h"
#include "cpu_int8/int8_format.h"
#include "model/hparams_gguf.h"

namespace tessera {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// What the file's quantization mode allows. Matrices, embeddings and memories: F32 or F16 in a
// float file, I8 (weights-only) or I8/I16 (int8, mixed precision) in a quantized one. Every other
// tensor (norms, biases, per-head values, scales) is F32. LayerNorms are folded into the next
// matrix by weights-only and int8 quantization, so their tensors are optional there and required
// elsewhere.
struct Architecture {
  std::string mode;  // keys::kQuantMode, "" when absent
  bool folded_norms = false;
  std::vector<DType> matrix_types;

  static Result<Architecture> of(const gguf::File& f) {
    Architecture a;
    if (f.has(keys::kQuantMode)) {
      TESSERA_ASSIGN_OR_RETURN(a.mode, f.get_string(keys::kQuantMode));
    }
    if (a.mode.empty() || a.mode == "f16") {
      a.matrix_types = {DType::kF32, DType::kF16};
    } else if (a.mode == "weights-only") {
      a.matrix_types = {DType::kI8};
      a.folded_norms = true;
    } else if (a.mode == "int8") {
      a.matrix_types = {DType::kI8, DType::kI16};
      a.folded_norms = true;
    } else {
      return unsupported(f.name() + ": key " + keys::kQuantMode + ": expected int8, weights-only or f16, found '" +
                         printable_prefix(a.mode, 64) + "'");
    }
    return a;
  }
  // Tensors only the cpu-int8 backend reads (activation scales and bit widths, the value cache's bits), for int8 files.
  bool is_int8_extra(const std::string& name, int64_t n_layer) const {
    return mode == "int8" && int8::is_int8_activation_tensor(name, n_layer);
  }
};

std::string types_text(const std::vector<DType>& types) {
  std::string r;
  for (size_t i = 0; i < types.size(); ++i)
    r += (i ? (i + 1 == types.size() ? " or " : ", ") : "") + std::string(dtype_name(types[i]));
  return r;
}

class Loader {
 public:
  Loader(const gguf::File& f, const Architecture& arch) : f_(f), arch_(arch) {}

  // `matrix`: a matrix, embedding or memory (the quantizable tensors); else an F32-only tensor.
  Result<Tensor> tensor(const std::string& name, const std::vector<int64_t>& shape, bool matrix) {
    const Tensor* t = f_.find_tensor(name);
    if (!t) return not_found(f_.name() + ": tensor '" + name + "' is missing");
    used_.insert(name);
    if (t->shape != shape)
      return invalid_argument(f_.name() + ": tensor '" + name + "': expected shape " + shape_str(shape) + ", found " +
                              t->shape_string());
    static const std::vector<DType> kF32Only = {DType::kF32};
    const std::vector<DType>& allowed = matrix ? arch_.matrix_types : kF32Only;
    if (std::find(allowed.begin(), allowed.end(), t->dtype) == allowed.end())
      return invalid_argument(f_.name() + ": tensor '" + name + "': expected type " + types_text(allowed) +
                              (arch_.mode.empty() ? "" : " (a " + arch_.mode + " file)") + ", found " +
                              std::string(dtype_name(t->dtype)));
    return *t;
  }
  Result<Tensor> optional(const std::string& name, const std::vector<int64_t>& shape) {
    if (!f_.find_tensor(name)) return Tensor{};
    return tensor(name, shape, false);
  }
  // Every tensor of the file must be one the model reads.
  Status check_no_unknown_tensors(int64_t n_layer) const {
    for (const Tensor& t : f_.tensors())
      if (!used_.count(t.name) && !arch_.is_int8_extra(t.name, n_layer))
        return invalid_argument(
            f_.name() + ": unknown tensor '" + printable_prefix(t.name, 256) + "': not part of a memory-mosaics model" +
            (arch_.mode.empty() ? std::string() : " quantized as " + arch_.mode) + " with these hyperparameters");
    return Status();
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
    if (arch_.folded_norms) {
      TESSERA_ASSIGN_OR_RETURN(n.weight, optional(stem + ".weight", {C}));
    } else {
      TESSERA_ASSIGN_OR_RETURN(n.weight, tensor(stem + ".weight", {C}, false));
    }
    if (bias) {
      if (arch_.folded_norms) {
        TESSERA_ASSIGN_OR_RETURN(n.bias, optional(stem + ".bias", {C}));
      } else {
        TESSERA_ASSIGN_OR_RETURN(n.bias, tensor(stem + ".bias", {C}, false));
      }
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
  const Architecture& arch_;
  std::set<std::string> used_;
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
  TESSERA_ASSIGN_OR_RETURN(const Architecture arch, Architecture::of(f));
  Loader L(f, arch);
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
  TESSERA_RETURN_IF_ERROR(L.check_no_unknown_tensors(hp.n_layer));
  if (f.has(keys::kTokenizerTokens)) {
    TESSERA_ASSIGN_OR_RETURN(w->tokens_, f.get_string_array(keys::kTokenizerTokens));
    if (int64_t(w->tokens_.size()) != V)
      return invalid_argument(f.name() + ": " + keys::kTokenizerTokens + ": expected " + std::to_string(V) +
                              " tokens (vocab_size), found " + std::to_string(w->tokens_.size()));
  }
  return w;
}

}  // namespace tessera
