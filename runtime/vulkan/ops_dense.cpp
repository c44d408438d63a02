// Recording of the dense ops: embedding, matvec (LayerNorm on the fly), LayerNorm, the stacked K|V
// projection with key / value finishing, argmax.
#include <algorithm>
#include <bit>
#include <string>

#include "vulkan/ops.h"

namespace tessera::vk {
namespace {
uint32_t div_up(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

struct EmbedPush {
  uint32_t C, n;
};
TESSERA_VK_PUSH_CONTRACT(embed, EmbedPush);
struct LayerNormPush {
  uint32_t C, in_row0, out_row0, flags;  // flags: 1 weight, 2 bias
  float eps;
};
TESSERA_VK_PUSH_CONTRACT(layernorm, LayerNormPush);
struct KvProjectPush {
  uint32_t M, n, x_stride, x_offset, flags;  // flags: 1 bias, 4 LN, 8 LN weight, 16 LN bias, 32 projected
  float ln_eps;
  uint32_t d;
  float eps;
  uint32_t counter_off;  // word of the first counter in the y binding
};
TESSERA_VK_PUSH_CONTRACT(kv_project, KvProjectPush);
struct ArgmaxPush {
  uint32_t V, row;
};
TESSERA_VK_PUSH_CONTRACT(argmax, ArgmaxPush);

// Decode: two subgroups per workgroup, so a 768-row matrix is 384 workgroups spread over every SM
// (8 rows per workgroup left a quarter of the H100's 132 SMs idle). Prefill: 8 rows per workgroup,
// which share one LayerNorm pass over their token rows (shaders/matvec_core.glsl ln_statistics).
// The shared-memory flavour gives a workgroup one row: 64 threads keep its reductions short.
// Rows per finishing workgroup of a prompt chunk (shaders/kv_project.comp CR): 16 x 24 = 384
// workgroups for 512 rows of a 12-head model (64 x 24 for 2 048), each replaying the carry of the
// rows before its own.
constexpr uint32_t kKvChunkRows = 32;

uint32_t matvec_workgroup(const Context& ctx, uint32_t n) {
  if (!ctx.limits().subgroups) return ctx.fit_workgroup(64);
  return ctx.fit_workgroup(std::max(n == 1 ? 64u : 256u, 2 * ctx.subgroup_size()));
}

// Decode of a tall matrix (the output layer): 4 rows per subgroup share one LayerNorm pass and one
// x' per unit (shaders/matvec.comp MR, at most its MAX_MR = 4) and still leave >= 2 048 subgroups. Square
// projections keep one row per subgroup: their 768 rows would otherwise leave SMs idle.
uint32_t decode_rows_per_subgroup(uint32_t rows, uint32_t n) { return n == 1 && rows >= 8192 ? 4 : 1; }
}  // namespace

Status record_embed(Recording& rec, Context& ctx, const GpuMatrix& table, const BufferSlice& tokens,
                    const BufferSlice& out, uint32_t n) {
  if (table.parts.size() != 1) return unsupported("vulkan: the embedding table must fit one buffer");
  EmbedPush push{uint32_t(table.cols), n};
  uint32_t wg = ctx.workgroup_size();
  const auto& p = table.parts[0];
  return rec.dispatch<KernelId::kEmbed>({wg, uint32_t(table.wtype)}, {tokens, p.weight, p.scale, out}, push,
                                        {div_up(uint32_t(table.cols) / 4, wg), n, 1});
}

Status record_matvec(Recording& rec, Context& ctx, const GpuMatrix& w, const RowView& x, const RowView& y, uint32_t n,
                     bool accumulate, float out_scale, const GpuNorm* ln, float ln_eps) {
  if (n >= kMatmulMinRows) return record_matmul(rec, ctx, w, x, y, n, accumulate, out_scale, ln, ln_eps);
  const uint32_t wg = matvec_workgroup(ctx, n);
  const uint32_t rows_per_group = ctx.rows_per_workgroup(wg);
  constexpr uint32_t kRowTile = 4;  // shaders/matvec.comp RT
  const uint32_t K = uint32_t(w.cols);
  if (x.offset % 4 || x.stride % 4)
    return internal_error("vulkan: matvec inputs must start at multiples of 4 floats (vec4 reads)");
  const uint32_t elem_bytes = w.wtype == WeightType::kF32 ? 4 : w.wtype == WeightType::kF16 ? 2 : 1;
  const uint32_t vec16 = (K * elem_bytes) % 16 == 0 ? 1 : 0;
  for (const auto& p : w.parts) {
    const ProductPush push = product_push(w, p, n, x, y, accumulate, out_scale, ln, ln_eps);
    const BufferSlice& lw = ln ? ln->weight : ctx.dummy();
    const BufferSlice& lb = ln ? ln->bias : ctx.dummy();
    const uint32_t mr = decode_rows_per_subgroup(uint32_t(p.rows), n);
    // Row groups beyond the grid's x limit (a large vocabulary on one-row workgroups) fold into z.
    const uint32_t groups = div_up(uint32_t(p.rows), rows_per_group * mr);
    const uint32_t gx = std::min(groups, ctx.device().limits().maxComputeWorkGroupCount[0]);
    TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kMatvec>({wg, uint32_t(w.wtype), K, vec16, mr},
                                                            {x.buf, p.weight, p.scale, p.bias, y.buf, lw, lb}, push,
                                                            {gx, div_up(n, kRowTile), div_up(groups, gx)}));
  }
  return Status::ok_status();
}

Status record_layernorm(Recording& rec, Context& ctx, const BufferSlice& in, uint32_t in_row0, const BufferSlice& out,
                        uint32_t out_row0, uint32_t n, uint32_t channels, const GpuNorm& norm, float eps) {
  LayerNormPush push{channels, in_row0, out_row0, norm.flags, eps};
  return rec.dispatch<KernelId::kLayernorm>({ctx.workgroup_size()}, {in, norm.weight, norm.bias, out}, push, {n, 1, 1});
}

VkDeviceSize kv_project_counter_bytes(uint32_t heads) { return VkDeviceSize(2) * heads * 4; }

Status append_params(std::vector<float>& out, const std::vector<float>& v, size_t n, bool may_be_empty, float fill,
                     const std::string& what) {
  if ((v.empty() && !may_be_empty) || (!v.empty() && v.size() != n))
    return invalid_argument(what + ": expected " + std::to_string(n) + " values, found " + std::to_string(v.size()));
  if (v.empty()) {
    out.insert(out.end(), n, fill);
  } else {
    out.insert(out.end(), v.begin(), v.end());
  }
  return Status::ok_status();
}

Result<std::vector<float>> kv_project_params(uint32_t C, uint32_t H, const std::vector<float>& row_scale,
                                             const std::vector<float>& bias, const std::vector<float>& ln_weight,
                                             const std::vector<float>& ln_bias, const std::vector<float>& decay,
                                             const std::vector<float>& mix, const std::vector<float>& value_scale) {
  std::vector<float> out;
  out.reserve(size_t(6) * C + size_t(3) * H);
  auto put = [&](const std::vector<float>& v, size_t n, float fill, const char* what) {
    return append_params(out, v, n, true, fill, std::string("vulkan: kv_project ") + what);
  };
  TESSERA_RETURN_IF_ERROR(put(row_scale, 2 * size_t(C), 1.0f, "row scale"));
  TESSERA_RETURN_IF_ERROR(put(bias, 2 * size_t(C), 0.0f, "bias"));
  TESSERA_RETURN_IF_ERROR(put(ln_weight, C, 1.0f, "LayerNorm weight"));
  TESSERA_RETURN_IF_ERROR(put(ln_bias, C, 0.0f, "LayerNorm bias"));
  if (decay.size() != H || mix.size() != H || value_scale.size() != H)
    return invalid_argument("vulkan: kv_project decay, value mix and value scale need one value per head");
  out.insert(out.end(), decay.begin(), decay.end());
  out.insert(out.end(), mix.begin(), mix.end());
  out.insert(out.end(), value_scale.begin(), value_scale.end());
  return out;
}

Status record_kv_project(Recording& rec, Context& ctx, const KvProject& p) {
  const GpuMatrix& w = *p.w;
  const uint32_t M = uint32_t(w.rows), K = uint32_t(w.cols), d = p.head_dim;
  if (w.parts.size() != 1) return unsupported("vulkan: the stacked K|V projection must fit one buffer");
  if (d == 0 || M % (2 * d) != 0 || K * 2 != M || K % 4 != 0)
    return internal_error("vulkan: K|V rows must be 2 x heads x head size = 2 x columns (a multiple of 4)");
  const uint32_t H = M / (2 * d);
  if (p.counters.size < kv_project_counter_bytes(H)) return internal_error("vulkan: kv counters too small");
  if (p.counters.buffer != p.y.buffer || p.counters.offset < p.y.offset + VkDeviceSize(p.n) * M * 4 ||
      (p.counters.offset - p.y.offset) % 4 != 0)
    return internal_error("vulkan: kv counters must follow the projections in their buffer");
  if (p.params.size < (VkDeviceSize(6) * K + VkDeviceSize(3) * H) * 4)
    return internal_error("vulkan: kv_project parameters too small");
  if (p.x.offset % 4 || p.x.stride % 4) return internal_error("vulkan: kv_project inputs must be vec4-aligned");
  // The finishing workgroup needs a thread per channel of a head.
  const uint32_t wg = std::max(matvec_workgroup(ctx, p.n), std::bit_ceil(d));
  const uint32_t elem_bytes = w.wtype == WeightType::kF32 ? 4 : w.wtype == WeightType::kF16 ? 2 : 1;
  const uint32_t vec16 = (K * elem_bytes) % 16 == 0 ? 1 : 0;
  const VkDeviceSize counter_off = (p.counters.offset - p.y.offset) / 4;
  KvProjectPush push{
      M,        p.n, p.x.stride, p.x.offset,           (w.has_bias ? 1u : 0u) | (p.ln ? 4u | (p.ln->flags << 3) : 0u),
      p.ln_eps, d,   p.eps,      uint32_t(counter_off)};
  const auto& part = w.parts[0];
  // y and the counters after it: one binding.
  const BufferSlice yc{p.y.buffer, p.y.offset, p.counters.offset + p.counters.size - p.y.offset, p.y.mapped};
  constexpr uint32_t kRowTile = 4;  // shaders/matvec_core.glsl RT
  if (p.n >= kMatmulMinRows) {
    // Prompt chunks: the projections as a tiled matrix product into y, then kv_project finishes.
    TESSERA_RETURN_IF_ERROR(
        record_matmul(rec, ctx, w, p.x, {p.y, 0, M}, p.n, false, 1.0f, p.ln, p.ln_eps, p.allow_coop));
    rec.barrier();
    push.flags |= 32u;
    // The finishing reduces over a head's channels only: a thread per channel, no wider.
    const uint32_t finish_wg = std::max(ctx.fit_workgroup(64), std::bit_ceil(d));
    return rec.dispatch<KernelId::kKvProject>({finish_wg, uint32_t(w.wtype), K, vec16, p.kv_f16 ? 1u : 0u},
                                              {p.x.buf, part.weight, p.params, yc, p.step, p.states, p.key_cache,
                                               p.value_cache},
                                              push, {M / d, div_up(p.n, kKvChunkRows), 1});
  }
  return rec.dispatch<KernelId::kKvProject>({wg, uint32_t(w.wtype), K, vec16, p.kv_f16 ? 1u : 0u},
                                            {p.x.buf, part.weight, p.params, yc, p.step, p.states, p.key_cache,
                                             p.value_cache},
                                            push, {div_up(M, ctx.rows_per_workgroup(wg)), div_up(p.n, kRowTile), 1});
}

Status record_argmax(Recording& rec, Context& ctx, const BufferSlice& logits, uint32_t vocab, uint32_t row,
                     const BufferSlice& result, const BufferSlice& scratch) {
  if (scratch.size < kArgmaxScratchBytes) return internal_error("vulkan: argmax scratch too small");
  ArgmaxPush push{vocab, row};
  const uint32_t wg = ctx.workgroup_size();
  // About 4 logits per thread: ~50 workgroups for a 50k vocabulary, all loads in flight at once.
  const uint32_t groups = std::clamp(div_up(vocab, 4 * wg), 1u, kArgmaxMaxGroups);
  return rec.dispatch<KernelId::kArgmax>({wg}, {logits, result, scratch}, push, {groups, 1, 1});
}

}  // namespace tessera::vk
