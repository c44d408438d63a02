// Int8Model from a quantized model's tensors (see int8_plan.h).
#include "cpu_int8/int8_plan.h"

#include <cmath>
#include <cstring>

#include "model/attention_fixed_method.h"
#include "ops/int8/matvec_wide.h"
#include "ops/int8/softmax_fixed.h"

namespace tessera::int8 {

QuantizedMultiplier quantize_multiplier(double m) {
  if (!(m > 0)) return {0, 0};
  int e = 0;
  const double f = std::frexp(m, &e);  // m = f·2^e, f ∈ [0.5, 1)
  int64_t q = std::llround(f * 2147483648.0);
  if (q == (int64_t(1) << 31)) {
    q /= 2;
    ++e;
  }
  if (e < -31) return {0, 0};  // below 2^-32: every int32 input rounds to 0
  return {int32_t(q), e};
}

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

class Builder {
 public:
  Builder(const ModelWeights& weights, Int8Plan& plan)
      : w_(weights), hp_(weights.hparams()), source_(weights.file().name()), plan_(plan) {}

  Status error(StatusCode code, const std::string& what) const { return {code, source_ + ": " + what}; }

  // The tensors of the int8 model description (int8_format.h), which only this backend reads: the view
  // admits them in an int8 file without checking them.
  const Tensor* find_int8_tensor(const std::string& name) const { return w_.file().find_tensor(name); }

  Result<const Tensor*> require_int8_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape) {
    const Tensor* t = find_int8_tensor(name);
    if (!t)
      return error(StatusCode::kNotFound, "cpu-int8 needs tensor '" + name + "' (" + std::string(dtype_name(dtype)) +
                                              " " + shape_str(shape) + "), not found");
    if (t->dtype != dtype)
      return error(StatusCode::kCorruptFile, "tensor '" + name + "': expected " + std::string(dtype_name(dtype)) +
                                                 ", found " + std::string(dtype_name(t->dtype)));
    if (t->shape != shape)
      return error(StatusCode::kCorruptFile,
                   "tensor '" + name + "': expected shape " + shape_str(shape) + ", found " + shape_str(t->shape));
    return t;
  }

  // Scale values (F32, shape checked by the view or by require_int8_tensor): finite and > 0.
  Result<std::vector<double>> scale_values(const Tensor& t) {
    std::vector<double> out;
    for (float v : t.as<float>()) {
      if (!(std::isfinite(v) && v > 0))
        return error(StatusCode::kCorruptFile,
                     "tensor '" + t.name + "': scale " + std::to_string(v) + " is not a finite positive number");
      out.push_back(v);
    }
    return out;
  }
  Result<std::vector<double>> activation_scales(const std::string& name, int64_t count) {
    auto t = require_int8_tensor(name, DType::kF32, {count});
    if (!t.ok()) return t.status();
    return scale_values(**t);
  }

  // An int8 tensor, or an int16 one (|q| ≤ 32512) split into two int8 planes q = 255·hi + lo; *lo is
  // null for int8. The view admits only I8 and I16 for these tensors in an int8 file.
  Status planes(const Tensor& t, const int8_t** hi, const int8_t** lo) {
    *lo = nullptr;
    if (t.dtype == DType::kI8) {
      for (int8_t q : t.as<int8_t>())
        if (q == -128)
          return error(StatusCode::kCorruptFile, "tensor '" + t.name + "': int8 value -128 (expected [-127, 127])");
      *hi = reinterpret_cast<const int8_t*>(t.data);
      return {};
    }
    const int16_t* q = reinterpret_cast<const int16_t*>(t.data);
    const size_t n = size_t(t.numel());
    for (size_t i = 0; i < n; ++i)
      if (q[i] > ops::int8::kWideMax || q[i] < -ops::int8::kWideMax)
        return error(StatusCode::kCorruptFile,
                     "tensor '" + t.name + "': int16 value " + std::to_string(q[i]) + " outside [-32512, 32512]");
    plan_.planes.emplace_back(n);
    int8_t* h = plan_.planes.back().data();
    plan_.planes.emplace_back(n);
    int8_t* l = plan_.planes.back().data();
    ops::int8::split_wide(q, int64_t(n), h, l);
    *hi = h;
    *lo = l;
    return {};
  }

  // The int8/int16 choice of the activation sites (optional tensor; absent: all 8).
  Result<std::vector<int32_t>> activation_bits(const std::string& name, int64_t count,
                                               const std::vector<int>& int8_sites) {
    std::vector<int32_t> bits(size_t(count), 8);
    if (!find_int8_tensor(name)) return bits;
    auto t = require_int8_tensor(name, DType::kI32, {count});
    if (!t.ok()) return t.status();
    auto v = (*t)->as<int32_t>();
    for (int i : int8_sites) {
      if (v[size_t(i)] != 8 && v[size_t(i)] != 16)
        return error(StatusCode::kCorruptFile, "tensor '" + name + "': site " + std::to_string(i) + " has " +
                                                   std::to_string(v[size_t(i)]) + " bits (expected 8 or 16)");
      bits[size_t(i)] = v[size_t(i)];
    }
    return bits;
  }

  QuantizedMultiplier* new_multipliers(size_t n) {
    plan_.multipliers.emplace_back(n);
    return plan_.multipliers.back().data();
  }
  ops::fixed::ScoreScale* new_scales(size_t n) {
    plan_.score_scales.emplace_back(n);
    return plan_.score_scales.back().data();
  }
  int32_t* new_integers(size_t n) {
    plan_.integers.emplace_back(n);
    return plan_.integers.back().data();
  }

  // A [rows, cols] int8 matrix: requant[r] = s_w[r]·s_in/s_out, bias at s_w[r]·s_in.
  Status matrix(const Matrix& w, double s_in, double s_out, Int8Matrix* m) {
    if (Status st = planes(w.weight, &m->weight, &m->weight_lo); !st.ok()) return st;
    auto s = scale_values(w.scale);
    if (!s.ok()) return s.status();
    const int64_t rows = w.rows;
    m->rows = rows;
    m->cols = w.cols;
    QuantizedMultiplier* rq = new_multipliers(size_t(rows));
    for (int64_t r = 0; r < rows; ++r) rq[r] = quantize_multiplier((*s)[size_t(r)] * s_in / s_out);
    m->requant = rq;
    if (w.bias.nbytes != 0) {
      int32_t* bi = new_integers(size_t(rows));
      auto bv = w.bias.as<float>();
      for (int64_t r = 0; r < rows; ++r) {
        const double q = std::nearbyint(double(bv[size_t(r)]) / ((*s)[size_t(r)] * s_in));
        if (!(std::fabs(q) < 2e9))
          return error(StatusCode::kCorruptFile, "tensor '" + w.bias.name + "': bias overflows int32");
        bi[r] = int32_t(q);
      }
      m->bias = bi;
    }
    return {};
  }

  // LayerNorms (and the per-head value and query scales) are folded into the next matrix by the
  // quantizer: gains all ones (or absent), no bias.
  Status must_be_folded(const std::vector<float>& values, const std::string& name) {
    for (float x : values)
      if (x != 1.0f)
        return error(StatusCode::kCorruptFile,
                     "tensor '" + name + "' is not all ones: an int8 model must be folded (tessera quantize)");
    return {};
  }
  Status must_be_folded(const Norm& n) {
    if (n.weight.nbytes != 0)
      if (Status st = must_be_folded(tensor_to_f32(n.weight), n.weight.name); !st.ok()) return st;
    if (n.bias.nbytes != 0)
      return error(StatusCode::kCorruptFile, "tensor '" + n.bias.name + "': LayerNorm bias must be folded");
    return {};
  }

  // Decays in [0, 1) (checked by the view) in Q31.
  void decay(const std::vector<float>& a, const int32_t** decay_q31, const int32_t** keep_q31) {
    int32_t* d = new_integers(size_t(hp_.n_head));
    int32_t* k = new_integers(size_t(hp_.n_head));
    for (int64_t h = 0; h < hp_.n_head; ++h) {
      const double x = a[size_t(h)];
      d[h] = int32_t(std::min(2147483647.0, std::nearbyint(x * 2147483648.0)));
      k[h] = int32_t(std::min(2147483647.0, std::nearbyint((1 - x) * 2147483648.0)));
    }
    *decay_q31 = d;
    *keep_q31 = k;
  }

  Status layer(int64_t l, Int8Layer* L) {
    using namespace tensor_names;
    const auto name = [l](const char* suffix) { return block(l, suffix); };  // "blk.<l>.<suffix>"
    const LayerWeights& lw = w_.layer(l);
    const int64_t H = hp_.n_head, d = hp_.head_dim(), N = hp_.pmem_size, P = hp_.pmem_count;
    auto as = activation_scales(layer_activation_scales(l), kLayerScaleCount);
    if (!as.ok()) return as.status();
    // The layer's scales, by site.
    const auto s = [&as](LayerSite site) { return (*as)[size_t(site)]; };
    std::vector<int> operand_sites;
    for (LayerSite site : kLayerSites)
      if (is_operand_site(site)) operand_sites.push_back(int(site));
    auto bits = activation_bits(layer_activation_bits(l), kLayerScaleCount, operand_sites);
    if (!bits.ok()) return bits.status();
    const auto wide = [&bits](LayerSite site) { return (*bits)[size_t(site)] == 16; };
    using enum LayerSite;
    L->h1_wide = wide(kH1);
    L->o_wide = wide(kO);
    L->h2_wide = wide(kH2);
    L->r_wide = wide(kR);
    const double eps = hp_.layer_norm_eps;
    L->ln1_eps = uint64_t(std::llround(eps / (s_x_ * s_x_)));
    L->ln1_inv_scale = quantize_multiplier(1.0 / s(kH1));
    if (Status st = must_be_folded(lw.attn_norm); !st.ok()) return st;
    if (Status st = must_be_folded(lw.attn_value_scale, name(kAttnValueScale)); !st.ok()) return st;
    if (Status st = matrix(lw.attn_k, s(kH1), s(kU), &L->attn_k); !st.ok()) return st;
    if (Status st = matrix(lw.attn_v, s(kH1), s(kW), &L->attn_v); !st.ok()) return st;
    if (Status st = matrix(lw.attn_out, s(kO), s_x_, &L->attn_out); !st.ok()) return st;
    decay(lw.attn_key_decay, &L->key_decay_q31, &L->key_keep_q31);
    const std::vector<float>& mix = lw.attn_value_mix;
    int32_t* mix_q24 = new_integers(size_t(H));
    int32_t* keep_q24 = new_integers(size_t(H));
    for (int64_t h = 0; h < H; ++h) {
      if (std::fabs(mix[size_t(h)]) > 100)
        return error(StatusCode::kUnsupported, name(kAttnValueMix) + ": |c| > 100 does not fit Q24");
      mix_q24[h] = int32_t(std::nearbyint(mix[size_t(h)] * 16777216.0));
      keep_q24[h] = (int32_t(1) << 24) - mix_q24[h];
    }
    L->value_mix_q24 = mix_q24;
    L->value_keep_q24 = keep_q24;
    const std::vector<float>& beta = lw.attn_key_scale;
    QuantizedMultiplier* sm = new_multipliers(size_t(H));
    for (int64_t h = 0; h < H; ++h) {
      const double b2 = double(beta[size_t(h)]) * beta[size_t(h)];
      if (!(b2 > 0) || b2 >= 32768)
        return error(StatusCode::kUnsupported, name(kAttnKeyScale) + ": β² must lie in (0, 32768) for Q16 scores");
      sm[h] = quantize_multiplier(b2 * std::ldexp(1.0, kScoreFracBits - 30));
    }
    L->score_multiplier = sm;
    // Input scale of the ops/fixed transforms: Q16 scores, times β² for the regular seed relumax
    // (its slope: relu(β²(s - max s) + b) with s = β²cos; see cpu/attention_row.h).
    auto* ts = new_scales(size_t(H));
    for (int64_t h = 0; h < H; ++h) {
      double scale = std::ldexp(1.0, -kScoreFracBits);
      if (hp_.method.kind == AttentionKind::kReluMax && hp_.method.form == SeedForm::kRegular)
        scale *= double(beta[size_t(h)]) * beta[size_t(h)];
      const QuantizedMultiplier q = quantize_multiplier(scale);
      ts[h] = {q.multiplier, q.shift};
    }
    L->transform_scale = ts;
    L->o_to_int8 = quantize_multiplier(std::ldexp(1.0, -30) / s(kO));
    L->has_pmem = !hp_.attn_only;
    if (!L->has_pmem) return {};
    L->ln2_eps = L->ln1_eps;
    L->ln2_inv_scale = quantize_multiplier(1.0 / s(kH2));
    if (Status st = must_be_folded(lw.pmem_norm); !st.ok()) return st;
    if (Status st = must_be_folded(lw.pmem_query_scale, name(kPmemQueryScale)); !st.ok()) return st;
    if (Status st = must_be_folded(lw.pmem_value_scale, name(kPmemValueScale)); !st.ok()) return st;
    if (Status st = matrix(lw.pmem_k, s(kH2), s(kU2), &L->pmem_k); !st.ok()) return st;
    if (Status st = matrix(lw.pmem_out, s(kR), s_x_, &L->pmem_out); !st.ok()) return st;
    decay(lw.pmem_key_decay, &L->pmem_decay_q31, &L->pmem_keep_q31);
    if (Status st = planes(lw.pmem_mem_k, &L->mem_k, &L->mem_k_lo); !st.ok()) return st;
    if (Status st = planes(lw.pmem_mem_v, &L->mem_v, &L->mem_v_lo); !st.ok()) return st;
    auto smk = scale_values(lw.pmem_mem_k_scale);
    if (!smk.ok()) return smk.status();
    auto smv = scale_values(lw.pmem_mem_v_scale);
    if (!smv.ok()) return smv.status();
    const size_t slots = size_t(P * H * N);
    QuantizedMultiplier* ks = new_multipliers(slots);
    QuantizedMultiplier* vw = new_multipliers(slots);
    double max_v = 0;
    for (double x : *smv) max_v = std::max(max_v, x);
    for (size_t i = 0; i < slots; ++i) {
      ks[i] = quantize_multiplier((*smk)[i] * std::ldexp(1.0, kScoreFracBits - 15));
      vw[i] = quantize_multiplier((*smv)[i] / (double(P) * max_v));
    }
    L->mem_k_score = ks;
    auto rowsums = [&](const int8_t* plane) {
      int32_t* rowsum = new_integers(slots);
      for (size_t i = 0; i < slots; ++i) {
        int32_t sum = 0;
        for (int64_t j = 0; j < d; ++j) sum += plane[i * size_t(d) + size_t(j)];
        rowsum[i] = sum;
      }
      return rowsum;
    };
    L->mem_k_rowsum = rowsums(L->mem_k);
    if (L->mem_k_lo) L->mem_k_lo_rowsum = rowsums(L->mem_k_lo);
    L->mem_v_weight = vw;
    L->r_to_int8 = quantize_multiplier(max_v * std::ldexp(1.0, -ops::int8::kProbabilityFracBits) / s(kR));
    return {};
  }

  // The contextual memory's transform: softmax (ops/int8, Q23) or an ops/fixed integer kernel.
  Status attention() {
    Int8Model& m = plan_.model;
    const AttentionMethod& am = hp_.method;
    m.attention_softmax = am.kind == AttentionKind::kSoftmax;
    if (!m.attention_softmax) {
      auto t = ops::fixed_transform_for(am);  // the one method → ops/fixed mapping (range checks included)
      if (!t.ok()) return error(StatusCode::kUnsupported, "cpu-int8: " + t.status().message());
      m.attention_transform = *t;
    }
    const ops::fixed::FixedRowTransform& t = m.attention_transform;
    // Scratch words per key: measured at a large n so the per-key factor covers every row length.
    const size_t big = 1 << 16;
    m.attention_scratch_words_per_key =
        m.attention_softmax ? 0 : int64_t((ops::fixed::fixed_scratch_words(t.kind, big) + big - 1) / big);
    return {};
  }

  Status build() {
    if (!hp_.pre_ln) return error(StatusCode::kUnsupported, "cpu-int8 runs pre-LN models only (pre_ln = false)");
    if (Status st = attention(); !st.ok()) return st;
    const int64_t V = hp_.vocab_size, C = hp_.n_embd;
    const Tensor& embd = w_.token_embd().weight;
    if (embd.dtype != DType::kI8 && embd.dtype != DType::kI16)
      return error(StatusCode::kInvalidArgument,
                   "is not an int8 model (" + embd.name + " is " + std::string(dtype_name(embd.dtype)) +
                       "); the cpu-int8 backend needs `tessera quantize --int8 IN OUT.gguf`");
    // A weights-only file has I8 matrices but no activation scales.
    auto gs = activation_scales(kActivationScales, kModelSiteCount);
    if (!gs.ok()) return gs.status();
    s_x_ = (*gs)[size_t(ModelSite::kResidual)];
    auto gbits = activation_bits(kActivationBits, kModelSiteCount, {int(ModelSite::kFinalNorm)});
    if (!gbits.ok()) return gbits.status();
    plan_.model.out_wide = (*gbits)[size_t(ModelSite::kFinalNorm)] == 16;
    if (find_int8_tensor(kValueCacheBits)) {                  // absent: Q15 values (16 bits)
      auto vbits = activation_bits(kValueCacheBits, 1, {0});  // checks I32 [1] ∈ {8, 16}
      if (!vbits.ok()) return vbits.status();
      plan_.model.value_cache_int8 = (*vbits)[0] == 8;
    }
    const double s_hout = (*gs)[size_t(ModelSite::kFinalNorm)], s_logit = (*gs)[size_t(ModelSite::kLogits)];
    Int8Model& m = plan_.model;
    m.vocab_size = V;
    m.n_embd = C;
    m.n_head = hp_.n_head;
    m.head_dim = hp_.head_dim();
    m.n_layer = hp_.n_layer;
    m.pmem_size = hp_.attn_only ? 0 : hp_.pmem_size;
    m.pmem_count = hp_.attn_only ? 0 : hp_.pmem_count;
    m.mask_offset = hp_.mask_offset;
    if (embd.dtype == DType::kI16) {
      m.token_embd_wide = reinterpret_cast<const int16_t*>(embd.data);  // |q| ≤ 32512: any int16 fits int32 math
    } else {
      const int8_t* lo = nullptr;
      if (Status st = planes(embd, &m.token_embd, &lo); !st.ok()) return st;  // checks |q| ≤ 127
    }
    auto es = scale_values(w_.token_embd().scale);
    if (!es.ok()) return es.status();
    QuantizedMultiplier* er = new_multipliers(size_t(V));
    for (int64_t v = 0; v < V; ++v) er[v] = quantize_multiplier((*es)[size_t(v)] / s_x_);
    m.embd_requant = er;
    if (Status st = must_be_folded(w_.output_norm()); !st.ok()) return st;
    m.out_eps = uint64_t(std::llround(hp_.layer_norm_eps / (s_x_ * s_x_)));
    m.out_inv_scale = quantize_multiplier(1.0 / s_hout);
    // The quantizer unties the head (hp.logit_scale folded into it): a tied int8 file has no such matrix.
    if (w_.tied_output())
      return error(StatusCode::kNotFound, std::string("cpu-int8 needs tensor '") + tensor_names::kOutput +
                                              "' (an int8 model has its own folded output matrix), not found");
    if (Status st = matrix(w_.output(), s_hout, s_logit, &m.output); !st.ok()) return st;
    plan_.logit_scale = s_logit;
    plan_.layers.resize(size_t(hp_.n_layer));
    for (int64_t l = 0; l < hp_.n_layer; ++l)
      if (Status st = layer(l, &plan_.layers[size_t(l)]); !st.ok()) return st;
    m.layers = plan_.layers.data();
    return {};
  }

 private:
  const ModelWeights& w_;
  const HParams& hp_;
  const std::string& source_;
  Int8Plan& plan_;
  double s_x_ = 0;
};

}  // namespace

Result<std::unique_ptr<Int8Plan>> build_int8_plan(const ModelWeights& weights, const ops::int8::Int8Kernels& kernels,
                                                  const SupersededFn& superseded) {
  auto plan = std::make_unique<Int8Plan>();
  Builder b(weights, *plan);
  if (Status st = b.build(); !st.ok()) return st;
  plan->model.kernels = &kernels;
  // Persistent memories re-laid out once here for the kernels that want another layout: every bank of N
  // slots × head_dim, in the plan's own storage; the file's copy is then superseded (the hot path reads
  // only the new one).
  const int64_t N = plan->model.pmem_size, banks = plan->model.pmem_count * plan->model.n_head,
                dd = plan->model.head_dim;
  auto relaid = [&](const int8_t* src, void (*layout)(const int8_t*, int64_t, int64_t, int8_t*)) -> const int8_t* {
    if (!src) return nullptr;
    std::vector<int8_t>& out = plan->planes.emplace_back(size_t(banks * N * dd));
    for (int64_t b = 0; b < banks; ++b) layout(src + b * N * dd, N, dd, out.data() + b * N * dd);
    if (superseded) superseded(src, out.size());
    return out.data();
  };
  // The quads value sum wants M_v in slot quads (N a multiple of 4).
  if (kernels.axpy_quads && N % 4 == 0)
    for (Int8Layer& L : plan->layers) {
      if (!L.has_pmem) continue;
      L.mem_v_quads = relaid(L.mem_v, ops::int8::axpy_quads_layout);
      L.mem_v_lo_quads = relaid(L.mem_v_lo, ops::int8::axpy_quads_layout);
    }
  // q·M_k on column quads (no row reductions), for d % 4 == 0.
  if (kernels.matvec_q16_quads && dd % 4 == 0)
    for (Int8Layer& L : plan->layers) {
      if (!L.has_pmem) continue;
      L.mem_k_quads = relaid(L.mem_k, ops::int8::matvec_q16_quads_layout);
      L.mem_k_lo_quads = relaid(L.mem_k_lo, ops::int8::matvec_q16_quads_layout);
    }
  plan->model.pmem_byte_split = kernels.matvec_packs_narrow_rows && (dd == 8 || dd == 16);
  return plan;
}

}  // namespace tessera::int8
