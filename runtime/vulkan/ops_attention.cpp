// Recording of one attention (context memory) per block of query rows. Softmax: one pass
// (attn_softmax_partial: flash-decoding, merged by the last workgroup). Exact entmax (r = 1, 2, 3):
// cosines + chunk maxima, filter, exact threshold and the support, then weights + values + output
// over the support in one pass. Other transforms: cosines + chunk maxima, the transform
// (normaliser), weighted value sums per key chunk and the combine into the output rows.
#include <algorithm>
#include <bit>
#include <string>

#include "vulkan/ops.h"

namespace tessera::vk {

uint32_t attention_workgroup(const Context& ctx, uint32_t head_dim) {
  return std::max(ctx.workgroup_size(), std::bit_ceil(head_dim));
}

uint32_t one_pass_chunks(uint32_t max_keys, uint32_t unit) {
  return std::clamp((max_keys + unit - 1) / unit, 1u, kOnePassMaxChunks);
}

uint32_t entmax_value_chunks(uint32_t max_keys) {
  return std::min(one_pass_chunks(max_keys, kEntmaxValueKeyUnit), kEntmaxValueMaxChunks);
}

namespace {

// The sizes of an attention scratch, from its shape alone (make_attention_scratch and
// attention_workspace_bytes read the same plan).
struct ScratchPlan {
  VkDeviceSize rows = 0, scores_bytes = 0, partial_bytes = 0, counter_bytes = 0;
  // Split exact entmax: candidate lists (+ value partials), and whether they fit in `partial`.
  VkDeviceSize index_words = 0, cand_bytes = 0;
  bool cand_in_partial = false;
  // The workspace part: the score rows, then (at an offset every device can bind) the lists.
  VkDeviceSize cand_at = 0, workspace_bytes = 0;
};

constexpr VkDeviceSize kMaxOffsetAlignment = 256;  // the largest minStorageBufferOffsetAlignment Vulkan allows

ScratchPlan plan_scratch(const AttentionScratchShape& s) {
  ScratchPlan p;
  p.rows = VkDeviceSize(s.rows_per_pass) * s.heads;
  p.scores_bytes = p.rows * std::max(s.max_keys, 1u) * 4;
  // `partial` serves the value pass of the four-pass transforms ([rows, nvchunks, d]) and the softmax
  // pass (partials and (m, z) per chunk); the softmax pass's completion counters follow it ([rows],
  // zero, left at zero).
  const VkDeviceSize d = s.head_dim;
  const VkDeviceSize floats = std::max(VkDeviceSize(std::max({s.nvchunks(), s.nchunks(), 1u})) * d,
                                       VkDeviceSize(one_pass_chunks(s.max_keys, s.score_chunk)) * (d + 2));
  p.partial_bytes = p.rows * floats * 4;
  p.counter_bytes = p.rows * 4;
  p.cand_at = (p.scores_bytes + kMaxOffsetAlignment - 1) / kMaxOffsetAlignment * kMaxOffsetAlignment;
  p.workspace_bytes = p.scores_bytes;
  if (!s.split_entmax) return p;
  // The candidates' y lists are dead once the threshold is known: the value pass keeps its partials
  // and chunk sums there. The index lists (the support after the threshold pass) follow both, in
  // score-row layout. They alias `partial` when that is large enough, else get their own buffer.
  const VkDeviceSize list_words = p.rows * std::max(s.max_keys, 1u);
  p.index_words = std::max(list_words, p.rows * VkDeviceSize(entmax_value_chunks(s.max_keys)) * (d + 1));
  p.cand_bytes = (p.index_words + list_words) * 4;
  p.cand_in_partial = p.partial_bytes >= p.cand_bytes;
  if (!p.cand_in_partial) p.workspace_bytes = p.cand_at + p.cand_bytes;
  return p;
}

}  // namespace

VkDeviceSize attention_workspace_bytes(const AttentionScratchShape& s) { return plan_scratch(s).workspace_bytes; }

Result<AttentionScratch> make_attention_scratch(Context& ctx, BlockAllocator& alloc, const AttentionScratchShape& s,
                                                const BufferSlice* workspace) {
  AttentionScratch a;
  a.shape = s;
  const ScratchPlan plan = plan_scratch(s);
  const VkDeviceSize rows = plan.rows;
  if (workspace && workspace->size < plan.workspace_bytes)
    return internal_error("vulkan: attention workspace of " + std::to_string(workspace->size) + " bytes, needs " +
                          std::to_string(plan.workspace_bytes));
  auto carve = [&](VkDeviceSize at, VkDeviceSize bytes, const std::string& what) -> Result<BufferSlice> {
    if (!workspace) return alloc.allocate(bytes, what);
    return workspace->part(at, bytes);
  };
  TESSERA_ASSIGN_OR_RETURN(a.scores, carve(0, plan.scores_bytes, "attention scores"));
  TESSERA_ASSIGN_OR_RETURN(a.chunk_max, alloc.allocate(rows * std::max(s.nchunks(), 1u) * 4, "attention maxima"));
  TESSERA_ASSIGN_OR_RETURN(a.norm, alloc.allocate(rows * 4, "attention normalisers"));
  const VkDeviceSize partial_bytes = plan.partial_bytes, counter_bytes = plan.counter_bytes;
  TESSERA_ASSIGN_OR_RETURN(BufferSlice block,
                           alloc.allocate(partial_bytes + counter_bytes, "attention partials and counters"));
  a.partial = block.part(0, partial_bytes);
  a.work = block;
  TESSERA_RETURN_IF_ERROR(ctx.fill_zero(block.part(partial_bytes, counter_bytes)));
  if (!s.split_entmax) return a;
  if (s.nsegs() > kEntmaxMaxSegments)
    return unsupported("vulkan: exact entmax over " + std::to_string(s.max_keys) + " keys needs more than " +
                       std::to_string(kEntmaxMaxSegments) + " filter segments of " + std::to_string(s.seg_keys()) +
                       " keys");
  if (plan.cand_bytes / 4 > UINT32_MAX)
    return unsupported("vulkan: exact entmax lists of " + std::to_string(rows) + " rows x " +
                       std::to_string(s.max_keys) + " keys exceed 32-bit word offsets");
  a.cand_index_offset = uint32_t(plan.index_words);
  if (plan.cand_in_partial) {
    a.cand = a.partial.part(0, plan.cand_bytes);
  } else {
    TESSERA_ASSIGN_OR_RETURN(a.cand, carve(plan.cand_at, plan.cand_bytes, "entmax candidates and value partials"));
  }
  const VkDeviceSize segs = std::max(s.nsegs(), 1u);
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

// Cache elements per load of the specialised cosine and value paths: 8 halves or 4 floats.
uint32_t cache_load_unit(const AttentionCall& c) { return c.kv_f16 ? 8 : 4; }

// Specialization constant 1 of the cosine passes (shaders/cosine.glsl): the head size when the
// vec4 path applies (keys read in 16-byte units, loops fully unrolled), else 0 = the generic path.
// Key base and strides must be multiples of cache_load_unit.
uint32_t cosine_head_spec(const AttentionCall& c, uint32_t wg) {
  const uint32_t unit = cache_load_unit(c);
  const bool aligned = c.k_base % unit == 0 && c.k_head_stride % unit == 0 && c.k_key_stride % unit == 0;
  return aligned && c.head_dim % 16 == 0 && c.head_dim <= 128 && c.head_dim <= wg ? c.head_dim : 0;
}

// attn_softmax_partial reads the values in the keys' units too (8 halves on the wide path): the
// specialised path needs both aligned.
uint32_t softmax_head_spec(const AttentionCall& c, uint32_t wg) {
  const uint32_t unit = cache_load_unit(c);
  const bool aligned = c.v_base % unit == 0 && c.v_head_stride % unit == 0 && c.v_key_stride % unit == 0;
  return aligned ? cosine_head_spec(c, wg) : 0;
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
  uint32_t H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size, nseg, unit, index_offset;
  float alpha_minus_1;
};
TESSERA_VK_PUSH_CONTRACT(attn_entmax_filter, FilterPush);
struct ThresholdPush {
  uint32_t r_int, H, mask_offset, nkeys_fixed, row_base, s_stride, nseg, seg_keys, shared_limit, unit, index_offset;
  uint32_t flags;  // 1: store the weights over the score row
  float alpha_minus_1;
};
TESSERA_VK_PUSH_CONTRACT(attn_entmax_threshold, ThresholdPush);
struct EntmaxValuesPush {
  uint32_t d, H, v_base, v_head_stride, v_key_stride, mask_offset, nkeys_fixed, row_base, s_stride, C, max_chunks,
      z_offset, index_offset, r_int, flags;
  float alpha_minus_1, scale;
};
TESSERA_VK_PUSH_CONTRACT(attn_entmax_values, EntmaxValuesPush);
struct ValuesPush {
  uint32_t d, H, v_base, v_head_stride, v_key_stride, mask_offset, nkeys_fixed, row_base, s_stride, chunk_keys,
      nvchunks;
};
TESSERA_VK_PUSH_CONTRACT(attn_values, ValuesPush);
struct SoftmaxPartialPush {
  uint32_t d, H, q_stride, flags, k_base, k_head_stride, k_key_stride, v_base, v_head_stride, v_key_stride, mask_offset,
      nkeys_fixed, row_base, C, max_chunks, stats_offset, counter_offset;
  float scale;
};
TESSERA_VK_PUSH_CONTRACT(attn_softmax_partial, SoftmaxPartialPush);
struct CombinePush {
  uint32_t d, H, C, mask_offset, nkeys_fixed, row_base, chunk_keys, nchunks, flags;
  float scale;
};
TESSERA_VK_PUSH_CONTRACT(attn_combine, CombinePush);

// r = 1 / (alpha - 1) of the exact entmax kinds the split passes serve, else 0.
uint32_t split_entmax_r(AttentionKind kind) {
  return kind == AttentionKind::kSparsemax  ? 1
         : kind == AttentionKind::kEntmax15 ? 2
         : kind == AttentionKind::kEntmax43 ? 3
                                            : 0;
}

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
// threshold (one workgroup per head: Newton steps with a support certificate, no sort) -> weights,
// values and output (many workgroups per head, merged by the last).
Status record_entmax_split(Recording& rec, Context& ctx, const AttentionCall& c, const AttentionScratch& s, uint32_t wg,
                           uint32_t row_base, uint32_t rows, uint32_t r, PassMarks& marks) {
  const auto& sh = s.shape;
  const float am1 = float(1.0 / r);
  const uint32_t nseg = std::max(sh.nsegs(), 1u);
  // Candidate lists padded to units of 4 (the threshold pass's loads), where a padded list stays
  // inside its score row.
  const uint32_t unit = sh.max_keys % 4 == 0 ? 4 : 1;
  FilterPush fp{c.heads, c.mask_offset, c.nkeys_fixed,       row_base, sh.max_keys, sh.nchunks(), sh.score_chunk,
                nseg,    unit,          s.cand_index_offset, am1};
  TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnEntmaxFilter>({wg, 16},
                                                                    {c.step, s.scores, s.chunk_max, c.head_scale,
                                                                     s.cand, s.seg_count, s.ent_state},
                                                                    fp, {nseg, c.heads, rows}));
  marks.done();
  const uint32_t twg = threshold_workgroup(ctx, wg);
  ThresholdPush tp{r,
                   c.heads,
                   c.mask_offset,
                   c.nkeys_fixed,
                   row_base,
                   sh.max_keys,
                   nseg,
                   sh.seg_keys(),
                   c.entmax_shared_limit,
                   unit,
                   s.cand_index_offset,
                   c.store_weights ? 1u : 0u,
                   am1};
  TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnEntmaxThreshold>(
      {twg, threshold_capacity(ctx, twg), kEntmaxMaxSegments},
      {c.step, s.cand, s.seg_count, s.ent_state, s.norm, s.scores, c.head_scale}, tp, {c.heads, rows, 1}));
  marks.done();
  // Weights, values and output over the support in one pass (the last workgroup of a (row, head) merges).
  const uint32_t vch = entmax_value_chunks(sh.max_keys);
  const uint32_t kv = c.kv_f16 ? 1 : 0;
  EntmaxValuesPush vp{c.head_dim,
                      c.heads,
                      c.v_base,
                      c.v_head_stride,
                      c.v_key_stride,
                      c.mask_offset,
                      c.nkeys_fixed,
                      row_base,
                      sh.max_keys,
                      c.out_stride,
                      vch,
                      uint32_t(VkDeviceSize(sh.rows_per_pass) * sh.heads * vch * c.head_dim),
                      s.cand_index_offset,
                      r,
                      (c.accumulate ? 1u : 0u) | (c.store_weights ? 2u : 0u),
                      am1,
                      c.scale};
  return rec.dispatch<KernelId::kAttnEntmaxValues>({wg, kv},
                                                   {c.step, s.scores, c.head_scale, s.ent_state, c.values, s.cand,
                                                    c.out_scale, c.out},
                                                   vp, {vch, c.heads, rows});
}

Status record_transform(Recording& rec, Context& ctx, const AttentionCall& c, const AttentionScratch& s, uint32_t wg,
                        uint32_t row_base, uint32_t rows, PassMarks& marks) {
  const auto& sh = s.shape;
  const TransformPush t{c.heads, c.mask_offset, c.nkeys_fixed, row_base, sh.max_keys, sh.nchunks(), sh.score_chunk};
  const TopKPush top{c.heads,     c.mask_offset, c.nkeys_fixed,  row_base,
                     sh.max_keys, sh.nchunks(),  sh.score_chunk, uint32_t(c.method.top_k)};
  const Groups g{c.heads, rows, 1};
  switch (c.method.kind) {
    case AttentionKind::kSoftmax: return internal_error("vulkan: softmax attention runs fused (attn_softmax_partial)");
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
      const uint32_t r = split_entmax_r(c.method.kind);
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
      // Flash-decoding in one pass: scores, chunk softmax and partial values, merged by the last
      // workgroup of each (row, head).
      const uint32_t sch = one_pass_chunks(sh.max_keys, wg);
      const VkDeviceSize srows = VkDeviceSize(sh.rows_per_pass) * sh.heads;
      SoftmaxPartialPush pp{c.head_dim,
                            c.heads,
                            c.q_stride,
                            (c.q_from_cache ? 1u : 0u) | (c.accumulate ? 2u : 0u),
                            c.k_base,
                            c.k_head_stride,
                            c.k_key_stride,
                            c.v_base,
                            c.v_head_stride,
                            c.v_key_stride,
                            c.mask_offset,
                            c.nkeys_fixed,
                            row_base,
                            c.out_stride,
                            sch,
                            uint32_t(srows * sch * c.head_dim),
                            uint32_t(s.partial.size / 4),
                            c.scale};
      TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnSoftmaxPartial>({wg, softmax_head_spec(c, wg), kv},
                                                                          {c.step, c.q, c.keys, c.values, c.head_scale,
                                                                           s.work, c.out_scale, c.out},
                                                                          pp, {c.heads, sch, rows}));
      marks.done();
      continue;
    }
    ScoresPush sp{c.head_dim,    c.heads,         c.q_stride,     c.q_from_cache ? 1u : 0u,
                  c.k_base,      c.k_head_stride, c.k_key_stride, c.mask_offset,
                  c.nkeys_fixed, row_base,        sh.max_keys,    sh.nchunks()};
    TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnScores>({wg, cosine_head_spec(c, wg), kv},
                                                                {c.step, c.q, c.keys, s.scores, s.chunk_max}, sp,
                                                                {c.heads, sh.nchunks(), rows}));
    marks.done();
    TESSERA_RETURN_IF_ERROR(record_transform(rec, ctx, c, s, wg, row_base, rows, marks));
    marks.done();
    if (split_entmax_r(c.method.kind) != 0) continue;  // its last pass wrote the output
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
