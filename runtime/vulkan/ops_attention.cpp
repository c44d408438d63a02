// Recording of one attention (context memory or persistent memory) as four passes per block of
// query rows: cosines + chunk maxima, the transform (normaliser / exact threshold), weighted
// value sums per key chunk, and the combine into the output rows.
#include <algorithm>
#include <bit>
#include <string>

#include "vulkan/ops.h"

namespace tessera::vk {

uint32_t attention_workgroup(const Context& ctx, uint32_t head_dim) {
  return std::max(ctx.workgroup_size(), std::bit_ceil(head_dim));
}

Result<AttentionScratch> make_attention_scratch(Context& ctx, BlockAllocator& alloc, const AttentionScratchShape& s) {
  AttentionScratch a;
  a.shape = s;
  const VkDeviceSize rows = VkDeviceSize(s.rows_per_pass) * s.heads;
  TESSERA_ASSIGN_OR_RETURN(a.scores, alloc.allocate(rows * std::max(s.max_keys, 1u) * 4, "attention scores"));
  TESSERA_ASSIGN_OR_RETURN(a.chunk_max, alloc.allocate(rows * std::max(s.nchunks(), 1u) * 4, "attention maxima"));
  TESSERA_ASSIGN_OR_RETURN(a.norm, alloc.allocate(rows * 4, "attention normalisers"));
  const VkDeviceSize chunks = std::max({s.nvchunks(), s.nchunks(), 1u});
  TESSERA_ASSIGN_OR_RETURN(a.partial, alloc.allocate(rows * chunks * s.head_dim * 4, "attention partials"));
  TESSERA_ASSIGN_OR_RETURN(a.stats, alloc.allocate(rows * chunks * 8, "attention chunk statistics"));
  if (!s.split_entmax) return a;
  if (s.nsegs() > kEntmaxMaxSegments)
    return unsupported("vulkan: exact entmax over " + std::to_string(s.max_keys) + " keys needs more than " +
                       std::to_string(kEntmaxMaxSegments) + " filter segments of " + std::to_string(s.seg_keys()) +
                       " keys");
  // The candidate list is dead before the value pass writes `partial`, and the apply pass's partial
  // sums are never live with the softmax statistics: alias them when the buffers are large enough
  // (d >= the score chunk keeps the sequence within its scratch budget), else allocate.
  const VkDeviceSize segs = std::max(s.nsegs(), 1u);
  auto alias_or_allocate = [&](const BufferSlice& host, VkDeviceSize bytes, const char* what) -> Result<BufferSlice> {
    if (host.size >= bytes) {
      BufferSlice b = host;
      b.size = bytes;
      return b;
    }
    return alloc.allocate(bytes, what);
  };
  TESSERA_ASSIGN_OR_RETURN(a.cand,
                           alias_or_allocate(a.partial, rows * std::max(s.max_keys, 1u) * 4, "entmax candidates"));
  // Apply partial sums: one float per group of 8 * score_chunk keys (2 per segment).
  TESSERA_ASSIGN_OR_RETURN(a.ent_partial, alias_or_allocate(a.stats, rows * segs * 2 * 4, "entmax apply sums"));
  TESSERA_ASSIGN_OR_RETURN(a.seg_count, alloc.allocate(rows * segs * 4, "entmax segment counts"));
  TESSERA_ASSIGN_OR_RETURN(a.ent_state, alloc.allocate(rows * 16 * 4, "entmax threshold state"));
  return a;
}

namespace {

// attn_entmax_threshold holds up to SHCAP candidates (one float each) next to the segment offsets
// (kEntmaxMaxSegments words) and 6 words per thread of reductions (7 in the shared-memory flavour,
// subgroup_shared.glsl); at most 8192 (32 KiB), within the effective shared-memory limit.
uint32_t threshold_capacity(const Context& ctx, uint32_t twg) {
  const uint32_t limit = ctx.limits().max_shared_bytes;
  const uint32_t per_thread = ctx.limits().subgroups ? 24 : 28;
  uint32_t cap = 8192;
  while (cap > 64 && 4 * cap + 4 * kEntmaxMaxSegments + per_thread * twg + 64 > limit) cap /= 2;
  return cap;
}

// Workgroup of the single-workgroup threshold pass: wider than the attention workgroup, since one
// workgroup sweeps all candidates of a head (a multiple of the subgroup size, within the limits).
uint32_t threshold_workgroup(const Context& ctx, uint32_t wg) {
  uint32_t t = std::max(wg, ctx.fit_workgroup(256));
  return t / wg * wg;
}

// Specialization constant 1 of the cosine passes (shaders/cosine.glsl): the head size when the
// vec4 path applies (keys read as vec4, loops fully unrolled), else 0 = the generic path.
uint32_t cosine_head_spec(const AttentionCall& c, uint32_t wg) {
  const bool aligned = c.k_base % 4 == 0 && c.k_head_stride % 4 == 0 && c.k_key_stride % 4 == 0;
  return aligned && c.head_dim % 16 == 0 && c.head_dim <= 128 && c.head_dim <= wg ? c.head_dim : 0;
}

struct ScoresPush {
  uint32_t d, H, q_stride, flags, k_base, k_head_stride, k_key_stride, mask_offset, nkeys_fixed, row_base, s_stride,
      nchunks;
};
TESSERA_VK_PUSH_CONTRACT(attn_scores, ScoresPush);
struct TransformPush {
  uint32_t H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size;
};
TESSERA_VK_PUSH_CONTRACT(attn_relumax, TransformPush);
TESSERA_VK_PUSH_CONTRACT(attn_norm_relu, TransformPush);
struct TopKPush {
  uint32_t H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size, top_k;
};
TESSERA_VK_PUSH_CONTRACT(attn_topk_softmax, TopKPush);
TESSERA_VK_PUSH_CONTRACT(attn_topk_uniform, TopKPush);
struct EntmaxPush {
  uint32_t H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size;
  float alpha_minus_1;
};
TESSERA_VK_PUSH_CONTRACT(attn_entmax, EntmaxPush);
struct FilterPush {
  uint32_t H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size, nseg;
  float alpha_minus_1;
};
TESSERA_VK_PUSH_CONTRACT(attn_entmax_filter, FilterPush);
struct ThresholdPush {
  uint32_t r_int, H, mask_offset, nkeys_fixed, row_base, s_stride, nseg, seg_keys, shared_limit;
};
TESSERA_VK_PUSH_CONTRACT(attn_entmax_threshold, ThresholdPush);
struct ApplyPush {
  uint32_t r_int, H, mask_offset, nkeys_fixed, row_base, s_stride, keys_per_group, ngroups;
  float alpha_minus_1;
};
TESSERA_VK_PUSH_CONTRACT(attn_entmax_apply, ApplyPush);
struct ValuesPush {
  uint32_t d, H, v_base, v_head_stride, v_key_stride, mask_offset, nkeys_fixed, row_base, s_stride, chunk_keys,
      nvchunks;
};
TESSERA_VK_PUSH_CONTRACT(attn_values, ValuesPush);
struct SoftmaxPartialPush {
  uint32_t d, H, q_stride, flags, k_base, k_head_stride, k_key_stride, v_base, v_head_stride, v_key_stride, mask_offset,
      nkeys_fixed, row_base, nchunks;
};
TESSERA_VK_PUSH_CONTRACT(attn_softmax_partial, SoftmaxPartialPush);
struct CombinePush {
  uint32_t d, H, C, mask_offset, nkeys_fixed, row_base, chunk_keys, nchunks, flags;
  float scale;
};
TESSERA_VK_PUSH_CONTRACT(attn_combine, CombinePush);
TESSERA_VK_PUSH_CONTRACT(attn_softmax_combine, CombinePush);

// A barrier after each pass; with AttentionCall::pass_timestamps, also a timestamp (benchmarks).
struct PassMarks {
  Recording& rec;
  uint32_t base = 0, next = 0;
  void done() {
    rec.barrier();
    if (base != 0) rec.timestamp(base + next++);
  }
};

// Exact entmax for r = 1, 2, 3 (shaders/attn_entmax_*.comp): filter (many workgroups per head) ->
// threshold (one workgroup per head: Newton steps with a support certificate, no sort) -> apply
// (many workgroups per head).
Status record_entmax_split(Recording& rec, Context& ctx, const AttentionCall& c, const AttentionScratch& s, uint32_t wg,
                           uint32_t row_base, uint32_t rows, uint32_t r, PassMarks& marks) {
  const auto& sh = s.shape;
  const float am1 = float(1.0 / r);
  const uint32_t nseg = std::max(sh.nsegs(), 1u);
  FilterPush fp{c.heads, c.mask_offset, c.nkeys_fixed, row_base, sh.max_keys, sh.nchunks(), sh.score_chunk, nseg, am1};
  TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnEntmaxFilter>({wg, 16},
                                                                    {c.step, s.scores, s.chunk_max, c.head_scale,
                                                                     s.cand, s.seg_count, s.ent_state},
                                                                    fp, {nseg, c.heads, rows}));
  marks.done();
  const uint32_t twg = threshold_workgroup(ctx, wg);
  ThresholdPush tp{r,           c.heads, c.mask_offset, c.nkeys_fixed,        row_base,
                   sh.max_keys, nseg,    sh.seg_keys(), c.entmax_shared_limit};
  TESSERA_RETURN_IF_ERROR(
      rec.dispatch<KernelId::kAttnEntmaxThreshold>({twg, threshold_capacity(ctx, twg), kEntmaxMaxSegments},
                                                   {c.step, s.cand, s.seg_count, s.ent_state, s.norm}, tp,
                                                   {c.heads, rows, 1}));
  marks.done();
  // Apply groups of 8 * WG keys (8 per thread, loaded together); their partial sums use ent_partial.
  constexpr uint32_t kApplyKeysPerThread = 8;
  const uint32_t per_group = wg * kApplyKeysPerThread,
                 ngroups = (std::max(sh.max_keys, 1u) + per_group - 1) / per_group;
  ApplyPush ap{r, c.heads, c.mask_offset, c.nkeys_fixed, row_base, sh.max_keys, per_group, ngroups, am1};
  return rec.dispatch<KernelId::kAttnEntmaxApply>({wg, kApplyKeysPerThread},
                                                  {c.step, s.scores, c.head_scale, s.ent_state, s.ent_partial, s.norm},
                                                  ap, {ngroups, c.heads, rows});
}

Status record_transform(Recording& rec, Context& ctx, const AttentionCall& c, const AttentionScratch& s, uint32_t wg,
                        uint32_t row_base, uint32_t rows, PassMarks& marks) {
  const auto& sh = s.shape;
  const TransformPush t{c.heads, c.mask_offset, c.nkeys_fixed, row_base, sh.max_keys, sh.nchunks(), sh.score_chunk};
  const TopKPush top{c.heads,     c.mask_offset, c.nkeys_fixed,  row_base,
                     sh.max_keys, sh.nchunks(),  sh.score_chunk, uint32_t(c.method.top_k)};
  const Groups g{c.heads, rows, 1};
  switch (c.method.kind) {
    case AttentionKind::kSoftmax:
      return internal_error("vulkan: softmax attention runs fused (attn_softmax_partial, attn_softmax_combine)");
    case AttentionKind::kReluMax:
      return rec.dispatch<KernelId::kAttnRelumax>({wg},
                                                  {c.step, s.scores, s.chunk_max, c.head_scale, c.relu_params, s.norm},
                                                  t, g);
    case AttentionKind::kNormRelu:
      return rec.dispatch<KernelId::kAttnNormRelu>({wg},
                                                   {c.step, s.scores, s.chunk_max, c.head_scale, c.relu_params, s.norm},
                                                   t, g);
    case AttentionKind::kTopKSoftmax:
      return rec.dispatch<KernelId::kAttnTopkSoftmax>({wg}, {c.step, s.scores, s.chunk_max, c.head_scale, s.norm}, top,
                                                      g);
    case AttentionKind::kTopKUniform:
      return rec.dispatch<KernelId::kAttnTopkUniform>({wg}, {c.step, s.scores, s.chunk_max, c.head_scale, s.norm}, top,
                                                      g);
    default: {
      double alpha = c.method.entmax_alpha();
      uint32_t r = c.method.kind == AttentionKind::kSparsemax  ? 1
                   : c.method.kind == AttentionKind::kEntmax15 ? 2
                   : c.method.kind == AttentionKind::kEntmax43 ? 3
                                                               : 0;
      if (r != 0 && !sh.split_entmax)
        return internal_error("vulkan: attention scratch built without the split entmax buffers");
      if (r != 0) return record_entmax_split(rec, ctx, c, s, wg, row_base, rows, r, marks);
      EntmaxPush p{c.heads,     c.mask_offset, c.nkeys_fixed,  row_base,
                   sh.max_keys, sh.nchunks(),  sh.score_chunk, float(alpha - 1.0)};
      return rec.dispatch<KernelId::kAttnEntmax>({wg}, {c.step, s.scores, s.chunk_max, c.head_scale, s.norm}, p, g);
    }
  }
}

}  // namespace

Status record_attention(Recording& rec, Context& ctx, const AttentionCall& c, const AttentionScratch& s) {
  if (attention_tiled_applies(ctx, c)) return record_attention_tiled(rec, ctx, c);
  const auto& sh = s.shape;
  const uint32_t wg = attention_workgroup(ctx, c.head_dim);
  if (sh.score_chunk != wg) return internal_error("vulkan: attention scratch built for another workgroup size");
  if (c.heads > sh.heads || c.head_dim != sh.head_dim)
    return internal_error("vulkan: attention scratch shape does not match the call");
  if (c.head_dim % 4 || c.v_base % 4 || c.v_head_stride % 4 || c.v_key_stride % 4)
    return unsupported("vulkan: attention needs head sizes and value strides that are multiples of 4");
  const uint32_t kv = c.kv_f16 ? 1 : 0;  // shaders/kv_cache.glsl KV_F16
  PassMarks marks{rec, c.pass_timestamps};
  for (uint32_t row_base = 0; row_base < c.rows; row_base += sh.rows_per_pass) {
    uint32_t rows = std::min(sh.rows_per_pass, c.rows - row_base);
    if (c.method.kind == AttentionKind::kSoftmax) {
      // Flash-decoding: scores, chunk softmax and partial values in one pass, then a rescaling merge.
      SoftmaxPartialPush pp{c.head_dim,      c.heads,         c.q_stride,     c.q_from_cache ? 1u : 0u,
                            c.k_base,        c.k_head_stride, c.k_key_stride, c.v_base,
                            c.v_head_stride, c.v_key_stride,  c.mask_offset,  c.nkeys_fixed,
                            row_base,        sh.nchunks()};
      TESSERA_RETURN_IF_ERROR(
          rec.dispatch<KernelId::kAttnSoftmaxPartial>({wg, cosine_head_spec(c, wg), kv},
                                                      {c.step, c.q, c.keys, c.values, c.head_scale, s.partial, s.stats},
                                                      pp, {sh.nchunks(), c.heads, rows}));
      marks.done();
      CombinePush cp{c.head_dim, c.heads,        c.out_stride, c.mask_offset,          c.nkeys_fixed,
                     row_base,   sh.score_chunk, sh.nchunks(), c.accumulate ? 1u : 0u, c.scale};
      TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnSoftmaxCombine>(
          {wg}, {c.step, s.partial, s.stats, c.head_scale, c.out_scale, c.out}, cp, {c.heads, rows, 1}));
      marks.done();
      continue;
    }
    ScoresPush sp{c.head_dim,    c.heads,         c.q_stride,     c.q_from_cache ? 1u : 0u,
                  c.k_base,      c.k_head_stride, c.k_key_stride, c.mask_offset,
                  c.nkeys_fixed, row_base,        sh.max_keys,    sh.nchunks()};
    TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnScores>({wg, cosine_head_spec(c, wg), kv},
                                                                {c.step, c.q, c.keys, s.scores, s.chunk_max}, sp,
                                                                {sh.nchunks(), c.heads, rows}));
    marks.done();
    TESSERA_RETURN_IF_ERROR(record_transform(rec, ctx, c, s, wg, row_base, rows, marks));
    marks.done();
    ValuesPush vp{c.head_dim,    c.heads,  c.v_base,    c.v_head_stride, c.v_key_stride, c.mask_offset,
                  c.nkeys_fixed, row_base, sh.max_keys, sh.value_chunk,  sh.nvchunks()};
    TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnValues>({wg, kv}, {c.step, s.scores, c.values, s.partial}, vp,
                                                                {sh.nvchunks(), c.heads, rows}));
    marks.done();
    CombinePush cp{c.head_dim, c.heads,        c.out_stride,  c.mask_offset,          c.nkeys_fixed,
                   row_base,   sh.value_chunk, sh.nvchunks(), c.accumulate ? 1u : 0u, c.scale};
    TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnCombine>({wg}, {c.step, s.partial, s.norm, c.out_scale, c.out},
                                                                 cp, {c.heads, rows, 1}));
    marks.done();
  }
  return Status::ok_status();
}

}  // namespace tessera::vk
