#include "vulkan/gpu_model.h"

#include <algorithm>
#include <cmath>

#include "vulkan/ops.h"

namespace tessera::vk {

ReluParams relu_params_for(const AttentionMethod& m, double beta2) {
  bool eft = m.form == SeedForm::kEft;
  if (m.kind == AttentionKind::kReluMax)  // regular: relu(β²(s - max s) + b); EFT: relu(β²(cos - max cos) + b)
    return {eft ? 1.0 : beta2, m.relumax_b};
  if (m.kind == AttentionKind::kNormRelu)  // regular: relu(2β²·s + 1 - 2β²) (cpu/attention_row.cpp); EFT: relu(cos)
    return eft ? ReluParams{1.0 / beta2, 0.0} : ReluParams{2.0 * beta2, 1.0 - 2.0 * beta2};
  return {};
}

namespace {

// The slots' stored type when the shaders read it in whole 16-byte units per slot and keys and
// values agree, else both widened to F32 (BF16, F64, odd head sizes).
WeightType slot_type(const Tensor& t, const Tensor& scale, int64_t d) {
  if (t.dtype == DType::kF32 && d % 4 == 0) return WeightType::kF32;
  if (t.dtype == DType::kF16 && d % 8 == 0) return WeightType::kF16;
  if (t.dtype == DType::kI8 && d % 16 == 0 && scale.nbytes) return WeightType::kI8;
  return WeightType::kF32;
}

Result<BufferSlice> upload_slot_tensor(Context& ctx, const Tensor& t, const Tensor& scale, int64_t d, WeightType type,
                                       const std::string& what) {
  if (type == WeightType::kF32 && t.dtype != DType::kF32) return upload_as_f32(ctx, t, &scale, d, what);
  return ctx.upload({t.data, t.nbytes}, what);
}

Result<BufferSlice> upload_heads(Context& ctx, const std::vector<float>& v, int64_t heads, const std::string& what) {
  if (int64_t(v.size()) != heads)
    return invalid_argument(what + ": expected " + std::to_string(heads) + " values, found " +
                            std::to_string(v.size()));
  return ctx.upload_floats(v, what);
}

Result<GpuLayer> upload_layer(Context& ctx, const ModelView& m, int64_t i) {
  const HParams& hp = m.hp;
  const LayerWeights& w = m.layers[size_t(i)];
  const std::string p = "blk." + std::to_string(i) + ".";
  const int64_t H = hp.n_head, C = hp.n_embd;
  GpuLayer g;
  TESSERA_ASSIGN_OR_RETURN(g.attn_norm, upload_norm(ctx, w.attn_norm, C, p + "attn_norm"));
  if (w.attn_k.rows != C || w.attn_v.rows != C) return invalid_argument(p + "attn_k/v: expected C rows");
  TESSERA_ASSIGN_OR_RETURN(Matrix kv, concat_rows(w.attn_k, w.attn_v, p + "attn_kv"));
  TESSERA_ASSIGN_OR_RETURN(g.attn_kv, upload_matrix(ctx, kv, p + "attn_kv"));
  TESSERA_ASSIGN_OR_RETURN(g.attn_out, upload_matrix(ctx, w.attn_out, p + "attn_output"));
  TESSERA_ASSIGN_OR_RETURN(g.key_decay, upload_heads(ctx, w.attn_key_decay, H, p + "attn_key_decay"));
  TESSERA_ASSIGN_OR_RETURN(g.value_scale, upload_heads(ctx, w.attn_value_scale, H, p + "attn_value_scale"));
  TESSERA_ASSIGN_OR_RETURN(g.value_mix, upload_heads(ctx, w.attn_value_mix, H, p + "attn_value_mix"));
  {
    auto floats_of = [](const Tensor& t) { return t.nbytes ? tensor_to_f32(t) : std::vector<float>(); };
    const std::vector<float> row_scale = g.attn_kv.wtype == WeightType::kI8 ? floats_of(kv.scale)
                                                                            : std::vector<float>();
    TESSERA_ASSIGN_OR_RETURN(std::vector<float> kvp,
                             kv_project_params(uint32_t(C), uint32_t(H), row_scale, floats_of(kv.bias),
                                               floats_of(w.attn_norm.weight), floats_of(w.attn_norm.bias),
                                               w.attn_key_decay, w.attn_value_mix, w.attn_value_scale));
    TESSERA_ASSIGN_OR_RETURN(g.kv_params, ctx.upload_floats(kvp, p + "kv_project parameters"));
  }
  if (int64_t(w.attn_key_scale.size()) != H) return invalid_argument(p + "attn_key_scale: expected H values");
  std::vector<float> beta2(static_cast<size_t>(H), 0.0f), relu(static_cast<size_t>(2 * H), 0.0f);
  for (int64_t h = 0; h < H; ++h) {
    double b2 = double(w.attn_key_scale[size_t(h)]) * double(w.attn_key_scale[size_t(h)]);
    beta2[size_t(h)] = float(b2);
    // Shader form: relumax relu(A (c - max c) + B), norm_relu relu(A (c - 1) + B) with c = cos,
    // A = relu_scale·β², B formed here in double so that large terms cancel exactly.
    ReluParams rp = relu_params_for(hp.method, b2);
    double a = rp.relu_scale * b2;
    relu[size_t(2 * h)] = float(a);
    relu[size_t(2 * h + 1)] = float(hp.method.kind == AttentionKind::kNormRelu ? a + rp.relu_bias : rp.relu_bias);
  }
  TESSERA_ASSIGN_OR_RETURN(g.key_beta2, ctx.upload_floats(beta2, p + "beta^2"));
  TESSERA_ASSIGN_OR_RETURN(g.relu_params, ctx.upload_floats(relu, p + "relu params"));
  if (hp.attn_only) return g;
  TESSERA_ASSIGN_OR_RETURN(g.pmem_norm, upload_norm(ctx, w.pmem_norm, C, p + "pmem_norm"));
  TESSERA_ASSIGN_OR_RETURN(g.pmem_k, upload_matrix(ctx, w.pmem_k, p + "pmem_k"));
  TESSERA_ASSIGN_OR_RETURN(g.pmem_out, upload_matrix(ctx, w.pmem_out, p + "pmem_output"));
  TESSERA_ASSIGN_OR_RETURN(g.pmem_decay, upload_heads(ctx, w.pmem_key_decay, H, p + "pmem_key_decay"));
  TESSERA_ASSIGN_OR_RETURN(g.pmem_query_scale, upload_heads(ctx, w.pmem_query_scale, H, p + "pmem_query_scale"));
  TESSERA_ASSIGN_OR_RETURN(g.pmem_value_scale, upload_heads(ctx, w.pmem_value_scale, H, p + "pmem_value_scale"));
  const int64_t slots = hp.pmem_count * H * hp.pmem_size * hp.head_dim();
  if (w.pmem_mem_k.numel() != slots || w.pmem_mem_v.numel() != slots)
    return invalid_argument(p + "pmem_mem_k/v: expected " + std::to_string(slots) + " elements");
  TESSERA_ASSIGN_OR_RETURN(g.pmem_slots, upload_pmem_slots(ctx, w, hp.head_dim(), p));
  {
    auto floats_of = [](const Tensor& t) { return t.nbytes ? tensor_to_f32(t) : std::vector<float>(); };
    const bool i8_slots = g.pmem_slots.wtype == WeightType::kI8;
    TESSERA_ASSIGN_OR_RETURN(std::vector<float> params,
                             pmem_params(uint32_t(C), uint32_t(H),
                                         g.pmem_k.wtype == WeightType::kI8 ? floats_of(w.pmem_k.scale)
                                                                           : std::vector<float>(),
                                         floats_of(w.pmem_k.bias), floats_of(w.pmem_norm.weight),
                                         floats_of(w.pmem_norm.bias), w.pmem_key_decay, w.pmem_query_scale,
                                         w.pmem_value_scale,
                                         i8_slots ? floats_of(w.pmem_mem_k_scale) : std::vector<float>(),
                                         i8_slots ? floats_of(w.pmem_mem_v_scale) : std::vector<float>()));
    TESSERA_ASSIGN_OR_RETURN(g.pmem_params, ctx.upload_floats(params, p + "pmem parameters"));
  }
  return g;
}

}  // namespace

Result<PmemSlots> upload_pmem_slots(Context& ctx, const LayerWeights& w, int64_t d, const std::string& p) {
  PmemSlots s;
  WeightType tk = slot_type(w.pmem_mem_k, w.pmem_mem_k_scale, d), tv = slot_type(w.pmem_mem_v, w.pmem_mem_v_scale, d);
  s.wtype = tk == tv ? tk : WeightType::kF32;
  TESSERA_ASSIGN_OR_RETURN(s.keys,
                           upload_slot_tensor(ctx, w.pmem_mem_k, w.pmem_mem_k_scale, d, s.wtype, p + "pmem_mem_k"));
  TESSERA_ASSIGN_OR_RETURN(s.values,
                           upload_slot_tensor(ctx, w.pmem_mem_v, w.pmem_mem_v_scale, d, s.wtype, p + "pmem_mem_v"));
  const std::vector<int64_t>& shape = w.pmem_mem_k.shape;  // [P, H, N, d]
  if (s.wtype == WeightType::kF16 && shape.size() == 4 && shape[3] == d &&
      int64_t(w.pmem_query_scale.size()) == shape[1]) {
    // Prompt chunks may run a head on the matrix units where β'² and its largest key allow it.
    const std::vector<float> keys = tensor_to_f32(w.pmem_mem_k);
    std::vector<double> max_norm(size_t(shape[1]), 0.0);
    for (int64_t slot = 0; slot < w.pmem_mem_k.numel() / d; ++slot) {
      double nn = 0;
      for (int64_t i = 0; i < d; ++i) nn += double(keys[size_t(slot * d + i)]) * keys[size_t(slot * d + i)];
      double& m = max_norm[size_t(slot / shape[2] % shape[1])];
      m = std::max(m, std::sqrt(nn));
    }
    s.matrix_heads = pmem_matrix_unit_heads(w.pmem_query_scale, max_norm);
  }
  if (s.wtype == WeightType::kI8) {  // the scales themselves go to the layer's pmem_params
    const int64_t slots = w.pmem_mem_k.numel() / d;
    if (int64_t(tensor_to_f32(w.pmem_mem_k_scale).size()) != slots ||
        int64_t(tensor_to_f32(w.pmem_mem_v_scale).size()) != slots)
      return invalid_argument(p + "pmem_mem_k/v: expected one scale per slot");
  }
  return s;
}

Result<std::unique_ptr<GpuModel>> upload_model(Context& ctx, const ModelView& m) {
  const HParams& hp = m.hp;
  if (hp.n_head <= 0 || hp.n_embd % hp.n_head != 0) return invalid_argument("vulkan: n_embd must divide into heads");
  const uint32_t d = uint32_t(hp.head_dim());
  if (d % 4 != 0)
    return unsupported("vulkan: head size " + std::to_string(d) + " is not a multiple of 4 (vectorised value reads)");
  if (attention_workgroup(ctx, d) > ctx.limits().max_workgroup_invocations)
    return unsupported("vulkan: head size " + std::to_string(d) + " needs workgroups of " +
                       std::to_string(attention_workgroup(ctx, d)) + " threads; the device (profile " +
                       ctx.limits().profile + ") allows " + std::to_string(ctx.limits().max_workgroup_invocations));
  if (int64_t(m.layers.size()) != hp.n_layer) return invalid_argument("vulkan: layer count mismatch");
  auto g = std::make_unique<GpuModel>();
  g->hp = hp;
  g->logit_scale = hp.logit_scale > 0 ? hp.logit_scale : float(1.0 / std::sqrt(double(hp.n_embd)));
  TESSERA_ASSIGN_OR_RETURN(g->token_embd, upload_matrix(ctx, m.token_embd, "token_embd"));
  if (g->token_embd.parts.size() != 1)
    return unsupported("vulkan: token_embd exceeds the largest bindable buffer on this device");
  if (m.output.weight.data == m.token_embd.weight.data && m.output.weight.dtype == m.token_embd.weight.dtype) {
    g->output = g->token_embd;  // tied: one copy on the device
  } else {
    TESSERA_ASSIGN_OR_RETURN(g->output, upload_matrix(ctx, m.output, "output"));
  }
  TESSERA_ASSIGN_OR_RETURN(g->output_norm, upload_norm(ctx, m.output_norm, hp.n_embd, "output_norm"));
  std::vector<float> ones(size_t(hp.n_head), 1.0f);
  TESSERA_ASSIGN_OR_RETURN(g->ones_h, ctx.upload_floats(ones, "ones"));
  for (int64_t i = 0; i < hp.n_layer; ++i) {
    TESSERA_ASSIGN_OR_RETURN(GpuLayer layer, upload_layer(ctx, m, i));
    g->layers.push_back(std::move(layer));
  }
  return g;
}

}  // namespace tessera::vk
