// Recording of the dense ops: embedding, matvec, LayerNorm, leaky scan, per-head L2 norm,
// value finishing, argmax.
#include <algorithm>

#include "vulkan/ops.h"

namespace tessera::vk {
namespace {
uint32_t div_up(uint32_t a, uint32_t b) { return (a + b - 1) / b; }
}  // namespace

Status record_embed(Recording& rec, Context& ctx, const GpuMatrix& table, const BufferSlice& tokens,
                    const BufferSlice& out, uint32_t n) {
  if (table.parts.size() != 1) return unsupported("vulkan: the embedding table must fit one buffer");
  struct { uint32_t C, n; } push{uint32_t(table.cols), n};
  uint32_t wg = ctx.workgroup_size();
  const auto& p = table.parts[0];
  return rec.dispatch("embed", {wg, uint32_t(table.wtype)}, {tokens, p.weight, p.scale, out}, push,
                      {div_up(uint32_t(table.cols) / 4, wg), n, 1});
}

Status record_matvec(Recording& rec, Context& ctx, const GpuMatrix& w, const RowView& x, const RowView& y,
                     uint32_t n, bool accumulate, float out_scale, const GpuNorm* ln, float ln_eps) {
  // Two subgroups per workgroup: at batch 1 a 768-row matrix is 384 workgroups, spread over every
  // SM (8 rows per workgroup left a quarter of the H100's 132 SMs idle).
  const uint32_t sg = ctx.subgroup_size();
  const uint32_t wg = std::max(64u, 2 * sg);
  const uint32_t rows_per_group = wg / sg;
  constexpr uint32_t kRowTile = 4;  // shaders/matvec.comp RT
  const uint32_t K = uint32_t(w.cols);
  if (x.offset % 4 || x.stride % 4)
    return internal_error("vulkan: matvec inputs must start at multiples of 4 floats (vec4 reads)");
  const uint32_t elem_bytes = w.wtype == WeightType::kF32 ? 4 : w.wtype == WeightType::kF16 ? 2 : 1;
  const uint32_t vec16 = (K * elem_bytes) % 16 == 0 ? 1 : 0;
  for (const auto& p : w.parts) {
    struct {
      uint32_t M, n, x_stride, x_offset, y_stride, y_offset, flags;
      float out_scale, ln_eps;
    } push{uint32_t(p.rows), n, x.stride, x.offset, y.stride, y.offset + uint32_t(p.row0),
           (w.has_bias ? 1u : 0u) | (accumulate ? 2u : 0u) | (ln ? 4u | (ln->flags << 3) : 0u), out_scale, ln_eps};
    const BufferSlice& lw = ln ? ln->weight : ctx.dummy();
    const BufferSlice& lb = ln ? ln->bias : ctx.dummy();
    TESSERA_RETURN_IF_ERROR(rec.dispatch("matvec", {wg, uint32_t(w.wtype), K, vec16},
                                         {x.buf, p.weight, p.scale, p.bias, y.buf, lw, lb}, push,
                                         {div_up(uint32_t(p.rows), rows_per_group), div_up(n, kRowTile), 1}));
  }
  return Status::ok_status();
}

Status record_layernorm(Recording& rec, Context& ctx, const BufferSlice& in, uint32_t in_row0,
                        const BufferSlice& out, uint32_t out_row0, uint32_t n, uint32_t channels,
                        const GpuNorm& norm, float eps) {
  struct { uint32_t C, in_row0, out_row0, flags; float eps; } push{channels, in_row0, out_row0, norm.flags, eps};
  return rec.dispatch("layernorm", {ctx.workgroup_size()}, {in, norm.weight, norm.bias, out}, push, {n, 1, 1});
}

Status record_kv_finish(Recording& rec, Context& ctx, const KvFinish& f) {
  const uint32_t H = f.channels / f.head_dim, HK = f.keys ? H : 0, HV = f.values ? H : 0;
  if (HK + HV == 0) return Status::ok_status();
  struct {
    uint32_t C, d, n, flags, u_off, u_stride, w_off, w_stride, HK;
    float eps;
  } push{f.channels, f.head_dim, f.n, f.key_flags, f.u_off, f.u_stride, f.w_off, f.w_stride, HK, f.eps};
  const BufferSlice& dm = ctx.dummy();
  auto or_dummy = [&](bool on, const BufferSlice& b) -> const BufferSlice& { return on ? b : dm; };
  return rec.dispatch("kv_finish", {attention_workgroup(ctx, f.head_dim)},
                      {f.step, or_dummy(f.keys, f.u), or_dummy(f.keys, f.key_state), or_dummy(f.keys, f.decay),
                       or_dummy(f.keys && (f.key_flags & 1), f.head_scale), or_dummy(f.keys, f.key_out),
                       or_dummy(f.values, f.w), or_dummy(f.values, f.w_prev), or_dummy(f.values, f.mix),
                       or_dummy(f.values, f.vscale), or_dummy(f.values, f.vcache)},
                      push, {HK + HV, 1, 1});
}

Status record_leaky_keys(Recording& rec, Context& ctx, const BufferSlice& step, const BufferSlice& u,
                         const BufferSlice& state, const BufferSlice& decay, const BufferSlice& head_scale,
                         const BufferSlice& out, uint32_t channels, uint32_t head_dim, uint32_t n, uint32_t flags,
                         float eps) {
  KvFinish f;
  f.channels = channels;
  f.head_dim = head_dim;
  f.n = n;
  f.eps = eps;
  f.step = step;
  f.keys = true;
  f.u = u;
  f.key_state = state;
  f.decay = decay;
  f.head_scale = head_scale;
  f.key_out = out;
  f.u_stride = channels;
  f.key_flags = flags;
  return record_kv_finish(rec, ctx, f);
}

Status record_value_finish(Recording& rec, Context& ctx, const BufferSlice& step, const BufferSlice& w,
                           const BufferSlice& w_prev, const BufferSlice& mix, const BufferSlice& vscale,
                           const BufferSlice& vcache, uint32_t channels, uint32_t head_dim, uint32_t n, float eps) {
  KvFinish f;
  f.channels = channels;
  f.head_dim = head_dim;
  f.n = n;
  f.eps = eps;
  f.step = step;
  f.values = true;
  f.w = w;
  f.w_prev = w_prev;
  f.mix = mix;
  f.vscale = vscale;
  f.vcache = vcache;
  f.w_stride = channels;
  return record_kv_finish(rec, ctx, f);
}

Status record_argmax(Recording& rec, Context& ctx, const BufferSlice& logits, uint32_t vocab, uint32_t row,
                     const BufferSlice& result, const BufferSlice& scratch) {
  if (scratch.size < kArgmaxScratchBytes) return internal_error("vulkan: argmax scratch too small");
  struct { uint32_t V, row; } push{vocab, row};
  const uint32_t wg = ctx.workgroup_size();
  // About 4 logits per thread: ~50 workgroups for a 50k vocabulary, all loads in flight at once.
  const uint32_t groups = std::clamp(div_up(vocab, 4 * wg), 1u, kArgmaxMaxGroups);
  return rec.dispatch("argmax", {wg}, {logits, result, scratch}, push, {groups, 1, 1});
}

}  // namespace tessera::vk
