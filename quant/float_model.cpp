// Reading a float model and folding it (see float_model.h).
#include "quant/float_model.h"

#include <cmath>

namespace tessera::quant {

std::string block_name(int64_t layer, const std::string& suffix) {
  return "blk." + std::to_string(layer) + "." + suffix;
}

namespace {

class Reader {
 public:
  Reader(const TensorLookup& find, const std::string& source, const std::function<void(const Tensor&)>& copied)
      : find_(find), source_(source), copied_(copied) {}

  Result<std::vector<double>> read(const std::string& name, const std::vector<int64_t>& shape, bool optional = false) {
    auto f = read_f32(name, shape, optional);
    if (!f.ok()) return f.status();
    return std::vector<double>(f->begin(), f->end());
  }

  Result<std::vector<float>> read_f32(const std::string& name, const std::vector<int64_t>& shape,
                                      bool optional = false) {
    const Tensor* t = find_(name);
    if (!t) {
      if (optional) return std::vector<float>{};
      return Status(StatusCode::kNotFound, source_ + ": tensor '" + name + "' not found");
    }
    if (t->dtype != DType::kF32 && t->dtype != DType::kF16 && t->dtype != DType::kBF16 && t->dtype != DType::kF64)
      return Status(StatusCode::kInvalidArgument, source_ + ": tensor '" + name + "' is " +
                                                      std::string(dtype_name(t->dtype)) +
                                                      ": quantize reads float models (F32/F16/BF16)");
    if (t->shape != shape) {
      Tensor want;
      want.shape = shape;
      return Status(StatusCode::kCorruptFile, source_ + ": tensor '" + name + "': expected shape " +
                                                  want.shape_string() + ", found " + t->shape_string());
    }
    std::vector<float> out = tensor_to_f32(*t);
    if (copied_) copied_(*t);
    for (float x : out)
      if (!std::isfinite(x))
        return Status(StatusCode::kCorruptFile, source_ + ": tensor '" + name + "' holds a non-finite value");
    return out;
  }

  Status matrix(const std::string& name, int64_t rows, int64_t cols, FloatMatrix* m) {
    auto w = read_f32(name, {rows, cols});
    if (!w.ok()) return w.status();
    auto b = read(name.substr(0, name.size() - 6) + "bias", {rows}, true);
    if (!b.ok()) return b.status();
    m->w = std::move(*w);
    m->b = std::move(*b);
    m->rows = rows;
    m->cols = cols;
    return {};
  }

  Status vec(const std::string& name, int64_t n, std::vector<double>* out, bool optional = false) {
    auto v = read(name, {n}, optional);
    if (!v.ok()) return v.status();
    *out = std::move(*v);
    return {};
  }

 private:
  const TensorLookup& find_;
  const std::string& source_;
  const std::function<void(const Tensor&)>& copied_;
};

#define TQ_TRY(expr)                         \
  do {                                       \
    Status tq_status_ = (expr);              \
    if (!tq_status_.ok()) return tq_status_; \
  } while (0)

}  // namespace

Result<FloatModel> float_model_from_tensors(const HParams& hp, const TensorLookup& find, const std::string& source,
                                            const std::function<void(const Tensor&)>& copied) {
  Reader r(find, source, copied);
  FloatModel m;
  m.hp = hp;
  const int64_t V = hp.vocab_size, C = hp.n_embd, H = hp.n_head, d = hp.head_dim();
  TQ_TRY(r.matrix("token_embd.weight", V, C, &m.embd));
  TQ_TRY(r.vec("output_norm.weight", C, &m.out_w, true));
  TQ_TRY(r.vec("output_norm.bias", C, &m.out_b, true));
  if (find("output.weight")) {
    TQ_TRY(r.matrix("output.weight", V, C, &m.output));
  } else {
    m.output = m.embd;
    m.output.b.clear();
  }
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    FloatLayer L;
    auto b = [&](const char* s) { return block_name(l, s); };
    TQ_TRY(r.vec(b("attn_norm.weight"), C, &L.ln1_w, true));
    TQ_TRY(r.vec(b("attn_norm.bias"), C, &L.ln1_b, true));
    TQ_TRY(r.matrix(b("attn_k.weight"), C, C, &L.k));
    TQ_TRY(r.matrix(b("attn_v.weight"), C, C, &L.v));
    TQ_TRY(r.matrix(b("attn_output.weight"), C, C, &L.o));
    TQ_TRY(r.vec(b("attn_key_decay"), H, &L.key_decay));
    TQ_TRY(r.vec(b("attn_key_scale"), H, &L.key_scale));
    TQ_TRY(r.vec(b("attn_value_scale"), H, &L.value_scale));
    TQ_TRY(r.vec(b("attn_value_mix"), H, &L.value_mix));
    if (!hp.attn_only) {
      TQ_TRY(r.vec(b("pmem_norm.weight"), C, &L.ln2_w, true));
      TQ_TRY(r.vec(b("pmem_norm.bias"), C, &L.ln2_b, true));
      TQ_TRY(r.matrix(b("pmem_k.weight"), C, C, &L.pk));
      TQ_TRY(r.matrix(b("pmem_output.weight"), C, C, &L.po));
      TQ_TRY(r.vec(b("pmem_key_decay"), H, &L.pmem_decay));
      TQ_TRY(r.vec(b("pmem_query_scale"), H, &L.pmem_query_scale));
      TQ_TRY(r.vec(b("pmem_value_scale"), H, &L.pmem_value_scale));
      const std::vector<int64_t> mem = {hp.pmem_count, H, hp.pmem_size, d};
      auto mk = r.read_f32(b("pmem_mem_k"), mem);
      if (!mk.ok()) return mk.status();
      auto mv = r.read_f32(b("pmem_mem_v"), mem);
      if (!mv.ok()) return mv.status();
      L.mem_k = std::move(*mk);
      L.mem_v = std::move(*mv);
    }
    m.layers.push_back(std::move(L));
  }
  return m;
}

namespace {

// W ← W·diag(g), b ← b + W·beta (W the original): the LayerNorm affine folded into a projection.
void fold_norm_into(const std::vector<double>& g, const std::vector<double>& beta, FloatMatrix* m) {
  if (!beta.empty()) {
    if (m->b.empty()) m->b.assign(size_t(m->rows), 0.0);
    for (int64_t r = 0; r < m->rows; ++r) {
      double acc = 0;
      for (int64_t c = 0; c < m->cols; ++c) acc += double(m->w[size_t(r * m->cols + c)]) * beta[size_t(c)];
      m->b[size_t(r)] += acc;
    }
  }
  if (!g.empty())
    for (int64_t r = 0; r < m->rows; ++r)
      for (int64_t c = 0; c < m->cols; ++c) {
        float& w = m->w[size_t(r * m->cols + c)];
        w = float(double(w) * g[size_t(c)]);
      }
}

// Column block of head h scaled by s[h] (value scales into W_o / W'_o).
void fold_head_scales_into_columns(const std::vector<double>& s, int64_t d, FloatMatrix* m) {
  for (int64_t r = 0; r < m->rows; ++r)
    for (int64_t c = 0; c < m->cols; ++c) {
      float& w = m->w[size_t(r * m->cols + c)];
      w = float(double(w) * s[size_t(c / d)]);
    }
}

}  // namespace

Result<FloatModel> fold(FloatModel m) {
  if (m.folded) return m;
  if (!m.hp.pre_ln)
    return Status(StatusCode::kUnsupported,
                  "folding needs a pre-LN model (with pre_ln = false the LayerNorm output is the residual)");
  const int64_t H = m.hp.n_head, d = m.hp.head_dim(), N = m.hp.pmem_size;
  for (FloatLayer& L : m.layers) {
    fold_norm_into(L.ln1_w, L.ln1_b, &L.k);
    fold_norm_into(L.ln1_w, L.ln1_b, &L.v);
    L.ln1_w.clear();
    L.ln1_b.clear();
    fold_head_scales_into_columns(L.value_scale, d, &L.o);
    L.value_scale.assign(size_t(H), 1.0);
    if (m.hp.attn_only) continue;
    fold_norm_into(L.ln2_w, L.ln2_b, &L.pk);
    L.ln2_w.clear();
    L.ln2_b.clear();
    fold_head_scales_into_columns(L.pmem_value_scale, d, &L.po);
    L.pmem_value_scale.assign(size_t(H), 1.0);
    for (int64_t p = 0; p < m.hp.pmem_count; ++p)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < N * d; ++i) {
          float& k = L.mem_k[size_t(((p * H + h) * N) * d + i)];
          k = float(double(k) * L.pmem_query_scale[size_t(h)]);
        }
    L.pmem_query_scale.assign(size_t(H), 1.0);
  }
  // Untied head: logits = (LN(x)·g + β)·Eᵀ·logit_scale = LN(x)·(E·diag(g)·ls)ᵀ + E·β·ls.
  // logit_scale 0 means "not set": the authors' model always divides by √C.
  const double ls = m.hp.logit_scale > 0 ? m.hp.logit_scale : 1.0 / std::sqrt(double(m.hp.n_embd));
  fold_norm_into(m.out_w, m.out_b, &m.output);
  for (float& w : m.output.w) w = float(double(w) * ls);
  for (double& b : m.output.b) b *= ls;
  m.out_w.clear();
  m.out_b.clear();
  m.hp.logit_scale = 1.0f;
  m.hp.weight_tying = false;
  m.folded = true;
  return m;
}

}  // namespace tessera::quant
