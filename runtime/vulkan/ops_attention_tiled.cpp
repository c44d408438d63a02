// Recording of the tiled causal attention of prompt chunks (rows > 1), one dispatch per call, no score
// scratch: softmax as flash attention, exact entmax in sweeps over the keys (row maxima, threshold,
// weighted values). On NVIDIA cooperative matrices (F16 caches, queries from the key cache)
// shaders/attn_prefill_{softmax,entmax}_coopmat_nv.comp, else shaders/attn_prefill_{softmax,entmax}.comp
// with a tile shape from the effective limits (shared memory, workgroup invocations).
#include <algorithm>
#include <optional>

#include "vulkan/ops.h"
#include "vulkan/shader_variants.h"

namespace tessera::vk {
namespace {

struct PrefillPush {
  uint32_t H, q_stride, flags, k_base, k_head_stride, k_key_stride, v_base, v_head_stride, v_key_stride, mask_offset,
      nkeys_fixed, row_base, rows, out_stride;
  float scale;
};
TESSERA_VK_PUSH_CONTRACT(attn_prefill_softmax, PrefillPush);
TESSERA_VK_PUSH_CONTRACT(attn_prefill_softmax_coopmat_nv, PrefillPush);
TESSERA_VK_PUSH_CONTRACT(attn_prefill_entmax, PrefillPush);
TESSERA_VK_PUSH_CONTRACT(attn_prefill_entmax_coopmat_nv, PrefillPush);

// r = 1 / (alpha - 1) of the exact entmax kinds the tiled kernels run, else 0.
uint32_t entmax_r(AttentionKind k) {
  return k == AttentionKind::kSparsemax ? 1 : k == AttentionKind::kEntmax15 ? 2 : k == AttentionKind::kEntmax43 ? 3 : 0;
}

// Threshold points per sweep of the exact-entmax kernels (shaders/attn_prefill_threshold.glsl): more
// points, fewer sweeps over the keys for more sums per key. The shared-memory kernel, 1 -> 8 points on
// lavapipe (alpha = 1.5, 12 heads, d = 64, docs/benchmarks.md): 0.67-0.88x the time at 512 and 2K rows.
// The cooperative-matrix kernel's lanes hold their sums in registers next to the matrix operands: 4
// there, not yet timed.
constexpr uint32_t kPortableThresholdPoints = 8;
constexpr uint32_t kCoopThresholdPoints = 4;

// Query rows x keys per tile, and scores per thread (rows x keys): workgroup (bq / tr) * (bk / tc).
struct PrefillTile {
  uint32_t bq, bk, tr, tc;
  uint32_t workgroup() const { return (bq / tr) * (bk / tc); }
  // shaders/attn_prefill_softmax.comp: qs, ks (rows of d + 1), vs, ps (rows of bk + 1), 3 per-row stats.
  uint32_t shared_bytes(uint32_t d) const {
    return 4 * (bq * (d + 1) + bk * (d + 1) + bk * d + bq * (bk + 1) + 3 * bq);
  }
};

// The largest tile within the limits: 64 x 32 (128 threads) on desktop GPUs, 32 x 32 within Android
// Baseline 2022's 32 KiB, 16 x 16 within a Raspberry Pi's 16 KiB (d = 64).
std::optional<PrefillTile> prefill_tile(const Context& ctx, uint32_t d) {
  const KernelLimits& l = ctx.limits();
  for (PrefillTile t : {PrefillTile{64, 32, 4, 4}, PrefillTile{32, 32, 4, 4}, PrefillTile{16, 16, 2, 2},
                        PrefillTile{16, 16, 4, 4}, PrefillTile{8, 8, 2, 2}}) {
    if (t.workgroup() <= l.max_workgroup_invocations && t.shared_bytes(d) <= l.max_shared_bytes) return t;
  }
  return std::nullopt;
}

// shaders/attn_prefill_coopmat_nv.glsl: 4 subgroups of 32, 64 x 64 tiles; keys and values (64 rows of
// d + 8 halves), weights (64 x 72 halves), cosines (64 x 68 floats); the entmax kernel adds 4 flags.
constexpr uint32_t kCoopWorkgroup = 128;
uint32_t coop_shared_bytes(uint32_t d) { return 2 * 64 * (d + 8) * 2 + 64 * 72 * 2 + 64 * 68 * 4 + 16; }

bool aligned4(const AttentionCall& c) {
  return c.k_base % 4 == 0 && c.k_head_stride % 4 == 0 && c.k_key_stride % 4 == 0 && c.v_base % 4 == 0 &&
         c.v_head_stride % 4 == 0 && c.v_key_stride % 4 == 0 && c.head_dim % 4 == 0;
}

// The cooperative-matrix kernels can take this call (kernel: the softmax or the entmax one).
bool coop_capable(const Context& ctx, const AttentionCall& c, KernelId portable, KernelId coop) {
  const KernelLimits& l = ctx.limits();
  return c.kv_f16 && c.q_from_cache && c.head_dim % 16 == 0 && c.head_dim <= 64 && l.subgroups &&
         pick_kernel_variant(portable, coop, l.features) == coop && ctx.subgroup_size() == 32 &&
         l.max_workgroup_invocations >= kCoopWorkgroup && coop_shared_bytes(c.head_dim) <= l.max_shared_bytes;
}

}  // namespace

bool attention_tiled_uses_cooperative_matrix(const Context& ctx, const AttentionCall& c) {
  if (c.method.kind == AttentionKind::kSoftmax)
    return coop_capable(ctx, c, KernelId::kAttnPrefillSoftmax, KernelId::kAttnPrefillSoftmaxCoopmatNv);
  return entmax_r(c.method.kind) != 0 && ctx.entmax_matrix_units() &&
         coop_capable(ctx, c, KernelId::kAttnPrefillEntmax, KernelId::kAttnPrefillEntmaxCoopmatNv);
}

bool attention_tiled_applies(const Context& ctx, const AttentionCall& c) {
  const uint32_t r = entmax_r(c.method.kind);
  if (!c.tiled_prefill || c.rows <= 1 || (c.method.kind != AttentionKind::kSoftmax && r == 0)) return false;
  if (attention_tiled_uses_cooperative_matrix(ctx, c)) return true;
  // Exact entmax off the matrix units where the softmax runs on them keeps the per-row passes: there
  // the shared-memory kernel is correct but slower (an H100: 2K-row alpha = 1.5 prompt attention 9.99
  // against 4.96 ms, docs/benchmarks.md).
  if (r != 0 && coop_capable(ctx, c, KernelId::kAttnPrefillSoftmax, KernelId::kAttnPrefillSoftmaxCoopmatNv))
    return false;
  return aligned4(c) && c.head_dim <= kPrefillMaxHeadDim && prefill_tile(ctx, c.head_dim).has_value();
}

Status record_attention_tiled(Recording& rec, Context& ctx, const AttentionCall& c) {
  if (!attention_tiled_applies(ctx, c)) return internal_error("vulkan: tiled attention does not apply to this call");
  const uint32_t flags = (c.q_from_cache ? 1u : 0u) | (c.accumulate ? 2u : 0u);
  const PrefillPush p{c.heads,        c.q_stride, flags,           c.k_base,       c.k_head_stride,
                      c.k_key_stride, c.v_base,   c.v_head_stride, c.v_key_stride, c.mask_offset,
                      c.nkeys_fixed,  0,          c.rows,          c.out_stride,   c.scale};
  const uint32_t r = entmax_r(c.method.kind);
  const BufferSlice bindings[] = {c.step, c.q, c.keys, c.values, c.head_scale, c.out_scale, c.out};
  const Groups coop_groups{(c.rows + 63) / 64, c.heads, 1};
  if (attention_tiled_uses_cooperative_matrix(ctx, c)) {
    if (r != 0) {
      TESSERA_RETURN_IF_ERROR(
          rec.dispatch<KernelId::kAttnPrefillEntmaxCoopmatNv>({kCoopWorkgroup, c.head_dim, 1u, r, kCoopThresholdPoints},
                                                              bindings, p, coop_groups));
    } else {
      TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnPrefillSoftmaxCoopmatNv>({kCoopWorkgroup, c.head_dim, 1u},
                                                                                   bindings, p, coop_groups));
    }
  } else {
    const PrefillTile t = *prefill_tile(ctx, c.head_dim);
    const Groups groups{(c.rows + t.bq - 1) / t.bq, c.heads, 1};
    if (r != 0) {
      TESSERA_RETURN_IF_ERROR(
          rec.dispatch<KernelId::kAttnPrefillEntmax>({t.workgroup(), c.head_dim, c.kv_f16 ? 1u : 0u, t.bq, t.bk, t.tr,
                                                      t.tc, r, kPortableThresholdPoints},
                                                     bindings, p, groups));
    } else {
      TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kAttnPrefillSoftmax>({t.workgroup(), c.head_dim,
                                                                           c.kv_f16 ? 1u : 0u, t.bq, t.bk, t.tr, t.tc},
                                                                          bindings, p, groups));
    }
  }
  rec.barrier();
  if (c.pass_timestamps != 0) rec.timestamp(c.pass_timestamps);
  return Status::ok_status();
}

}  // namespace tessera::vk
