// Recording of the persistent memory: one dispatch per memory. Decode and short chunks:
// shaders/pmem_softmax.comp, row by row (the query's leaky average, flash-decoding over the N
// slots, the merge by the last workgroup of each (row, head), the state update by the last merge
// of each head). Prompt chunks: shaders/pmem_prefill.comp, the same steps for tiles of rows as
// matrix products (scores = Q K^T, online softmax, P V), so each slot is read once per tile; with F16
// slots on NVIDIA cooperative matrices, shaders/pmem_prefill_coopmat_nv.comp for the heads whose score
// bound allows it and pmem_prefill.comp for the others (two dispatches, disjoint heads).
#include <algorithm>
#include <bit>
#include <cmath>

#include "vulkan/ops.h"
#include "vulkan/shader_variants.h"

namespace tessera::vk {
namespace {
// stats_off, count_off: where the statistics (vec2 index) and counters (word) start in the scratch.
struct PmemPush {
  uint32_t C, H, N, nchunks, slot_base, n, flags;  // flags: 1 accumulate into out, 2 advance the state
  float eps, scale;
  uint32_t stats_off, count_off;
};
TESSERA_VK_PUSH_CONTRACT(pmem_softmax, PmemPush);

// head_mask bit h: this dispatch serves head h (heads >= 32: the tiled kernel).
struct PmemPrefillPush {
  uint32_t C, H, N, nchunks, slot_base, n, flags, split_slots, head_mask;
  float eps, scale;
  uint32_t stats_off, count_off;
};
TESSERA_VK_PUSH_CONTRACT(pmem_prefill, PmemPrefillPush);
// The cooperative-matrix kernel binds the per-head vectors and the scratch's parts separately.
struct PmemPrefillCoopPush {
  uint32_t C, H, N, nchunks, slot_base, n, flags, split_slots, head_mask;
  float eps, scale;
};
TESSERA_VK_PUSH_CONTRACT(pmem_prefill_coopmat_nv, PmemPrefillCoopPush);

struct PmemDecodePush {
  uint32_t C, H, N, nchunks, slot_base, n, x_stride, x_offset, flags;  // flags: shaders/pmem_decode.comp
  float ln_eps, eps, scale;
  uint32_t count_off;
};
TESSERA_VK_PUSH_CONTRACT(pmem_decode, PmemDecodePush);

// Decode and short chunks keep the row kernel: below this many rows most of a row tile would be empty.
constexpr uint32_t kPmemTiledMinRows = 16;
// Slot tiles per split of the tiled kernel: longer splits amortise the queries and the merge, shorter
// ones give a large GPU more workgroups at 128 rows.
constexpr uint32_t kPmemTilesPerSplit = 4;
// Rows x slot chunks of partials the scratch holds: 64 x 21 for a GPT-2-sized model (3 MiB), so
// 512-row chunks take 2 splits (384 workgroups), 2 048-row chunks one (their row tiles fill the
// GPU), and the scratch stays within its memory budget.
constexpr uint32_t kPmemPartialRows = 64;
// The cooperative-matrix kernel (64 rows per workgroup, half the tiled kernel's row tiles) has room
// for twice the splits (6 MiB of partials); kCoopTilesPerSplit takes fewer.
constexpr uint32_t kPmemCoopPartialRows = 128;
// shaders/pmem_prefill_coopmat_nv.comp: 4 subgroups of 32, 64 rows x 64 slots per tile, d <= 64.
constexpr uint32_t kCoopWorkgroup = 128, kCoopRows = 64, kCoopSlots = 64;
// Slot tiles per split of the cooperative-matrix kernel at least (the queries and merge per split):
// N = 2688 (42 tiles) at 512 rows takes 2 splits, 192 workgroups for 12 heads. Measured on an H100
// (12 passes of a 512-row prefill): 2 splits 2.17 ms, 3 splits 2.49, 4 splits 2.37.
constexpr uint32_t kCoopTilesPerSplit = 21;

uint32_t div_up(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

// Where the statistics (vec2 index) and counters (word) start in the scratch binding.
uint32_t stats_index(const PmemScratch& s) { return uint32_t((s.stats.offset - s.scratch.offset) / 8); }
uint32_t counter_index(const PmemScratch& s) { return uint32_t((s.counters.offset - s.scratch.offset) / 4); }

// pmem_params() holds the per-head vectors and, for I8 slots, the scales of every slot up to this memory's.
Status check_params(const BufferSlice& params, uint32_t C, uint32_t H, uint32_t N, uint32_t slot_base,
                    WeightType slots) {
  VkDeviceSize words = VkDeviceSize(4) * C + VkDeviceSize(3) * H;
  if (slots == WeightType::kI8) words += 2 * (VkDeviceSize(slot_base) + VkDeviceSize(H) * N);
  if (params.size < words * 4)
    return internal_error("vulkan: pmem parameters hold " + std::to_string(params.size) + " bytes, expected " +
                          std::to_string(words * 4));
  return Status::ok_status();
}

// kv[64][d + 8] halves, st[64][68] floats, ps[2][64][72] halves, 64 row factors and a flag.
uint32_t coop_shared_bytes(uint32_t head_dim) {
  return kCoopSlots * (head_dim + 8) * 2 + kCoopRows * (kCoopSlots + 4) * 4 + 2 * kCoopRows * (kCoopSlots + 8) * 2 +
         kCoopRows * 4 + 4;
}

// The device (under its profile) runs the cooperative-matrix kernel for this head size.
bool coop_usable(const Context& ctx, uint32_t head_dim) {
  const KernelLimits& limits = ctx.limits();
  return head_dim % 16 == 0 && head_dim >= 16 && head_dim <= kCoopSlots && limits.subgroups &&
         pick_kernel_variant(KernelId::kPmemPrefill, KernelId::kPmemPrefillCoopmatNv, limits.features) ==
             KernelId::kPmemPrefillCoopmatNv &&
         ctx.subgroup_size() == 32 && limits.max_workgroup_invocations >= kCoopWorkgroup &&
         limits.max_shared_bytes >= coop_shared_bytes(head_dim);
}

uint32_t all_heads_below_32(uint32_t heads) { return heads >= 32 ? ~0u : (1u << heads) - 1u; }

uint32_t pmem_decode_chunks(uint32_t slots, uint32_t wg) { return div_up(slots, wg); }
VkDeviceSize pmem_decode_scratch_bytes(uint32_t heads, uint32_t head_dim, uint32_t nchunks) {
  return VkDeviceSize(heads) * nchunks * (VkDeviceSize(head_dim) * 4 + 8);  // partials, then (m, z) pairs
}

}  // namespace

Result<std::vector<float>> pmem_params(uint32_t C, uint32_t H, const std::vector<float>& row_scale,
                                       const std::vector<float>& bias, const std::vector<float>& ln_weight,
                                       const std::vector<float>& ln_bias, const std::vector<float>& decay,
                                       const std::vector<float>& query_scale, const std::vector<float>& value_scale,
                                       const std::vector<float>& key_slot_scale,
                                       const std::vector<float>& value_slot_scale) {
  if (key_slot_scale.size() != value_slot_scale.size())
    return invalid_argument("vulkan: pmem slot scales: " + std::to_string(key_slot_scale.size()) + " key and " +
                            std::to_string(value_slot_scale.size()) + " value scales, expected as many");
  std::vector<float> out;
  out.reserve(size_t(4) * C + size_t(3) * H + 2 * key_slot_scale.size());
  auto put = [&](const std::vector<float>& v, size_t n, bool may_be_empty, float fill, const char* what) {
    return append_params(out, v, n, may_be_empty, fill, std::string("vulkan: pmem ") + what);
  };
  TESSERA_RETURN_IF_ERROR(put(row_scale, C, true, 1.0f, "pmem_k row scale"));
  TESSERA_RETURN_IF_ERROR(put(bias, C, true, 0.0f, "pmem_k bias"));
  TESSERA_RETURN_IF_ERROR(put(ln_weight, C, true, 1.0f, "pmem_norm weight"));
  TESSERA_RETURN_IF_ERROR(put(ln_bias, C, true, 0.0f, "pmem_norm bias"));
  TESSERA_RETURN_IF_ERROR(put(decay, H, false, 0.0f, "key decay"));
  TESSERA_RETURN_IF_ERROR(put(query_scale, H, false, 0.0f, "query scale"));
  TESSERA_RETURN_IF_ERROR(put(value_scale, H, false, 0.0f, "value scale"));
  for (size_t i = 0; i < key_slot_scale.size(); ++i) {
    out.push_back(key_slot_scale[i]);
    out.push_back(value_slot_scale[i]);
  }
  return out;
}

PmemTile pmem_prefill_tile(const Context& ctx, uint32_t head_dim) {
  const KernelLimits& limits = ctx.limits();
  return pmem_prefill_tile_for(limits.max_workgroup_invocations, limits.max_shared_bytes, head_dim);
}

PmemTile pmem_prefill_tile_for(uint32_t max_invocations, uint32_t max_shared_bytes, uint32_t head_dim) {
  if (head_dim == 0 || head_dim % 16 != 0) return {};
  // 256 threads (16 x 16), 2 rows and 4 slots (or channels) per thread: 32 rows x 64 slots per tile.
  uint32_t wg = std::min(256u, std::bit_floor(std::max(1u, max_invocations)));
  uint32_t per_thread = 2, slots = 64;
  // shaders/pmem_prefill.comp: qs[D][BR], kv[BS][D], ps[BR][BS], part[BR][16], two [BR] rows and a
  // flag; plus the shared flavour's exchange words (WG), in case the compiler keeps them.
  auto bytes = [&] {
    const uint64_t br = uint64_t(wg / 16) * per_thread;
    return 4 * (uint64_t(head_dim) * br + uint64_t(slots) * head_dim + br * slots + br * 16 + 2 * br + 1 + wg);
  };
  while (wg >= 16 && bytes() > max_shared_bytes) {
    if (slots > 16) {
      slots /= 2;
    } else if (per_thread > 1) {
      per_thread /= 2;
    } else {
      wg /= 2;
    }
  }
  if (wg < 16) return {};
  return {wg, wg / 16 * per_thread, slots};
}

bool pmem_uses_tiles(const Context& ctx, const PmemCall& c) {
  return c.rows >= kPmemTiledMinRows && pmem_prefill_tile(ctx, c.head_dim).valid();
}

uint32_t pmem_matrix_unit_heads(std::span<const float> query_scale, std::span<const double> max_key_norm) {
  uint32_t mask = 0;
  for (size_t h = 0; h < std::min<size_t>({query_scale.size(), max_key_norm.size(), 32}); ++h) {
    // β'² >= 2^-10 keeps the kernel's power-of-two query scale 2^(13 - floor(log2 β'²)) a normal float.
    const double b = query_scale[h], bound = kPmemMatrixScoreBound * b * max_key_norm[h];
    if (std::isfinite(bound) && b >= 0x1p-10 && bound <= kPmemMatrixScoreTolerance) mask |= 1u << h;
  }
  return mask;
}

bool pmem_uses_matrix_units(const Context& ctx, const PmemCall& c, const PmemSlots& m) {
  return ctx.pmem_matrix_units() && pmem_uses_tiles(ctx, c) && m.wtype == WeightType::kF16 &&
         (m.matrix_heads & all_heads_below_32(c.heads)) != 0 && coop_usable(ctx, c.head_dim);
}

uint32_t pmem_workgroup(const Context& ctx, uint32_t head_dim) {
  // 128 slots per chunk: 21 chunks x 12 heads = 252 workgroups for N = 2688 (about two per H100 SM).
  // Within the workgroup limit unless the head needs more (the kernel lookup then refuses it).
  return std::max(ctx.fit_workgroup(std::max(128u, ctx.subgroup_size())), std::bit_ceil(head_dim));
}

Result<PmemScratch> make_pmem_scratch(Context& ctx, BlockAllocator& alloc, uint32_t rows, uint32_t heads,
                                      uint32_t head_dim, uint32_t slots) {
  PmemScratch s;
  s.rows = rows;
  s.heads = heads;
  s.head_dim = head_dim;
  s.chunk = pmem_workgroup(ctx, head_dim);
  s.nchunks = std::max(1u, (slots + s.chunk - 1) / s.chunk);
  // Partials of one (row, head, chunk or split) each. The row kernel serves chunks below
  // kPmemTiledMinRows rows (all of them where no tile fits); the tiled kernel's splits share the
  // budget of kPmemPartialRows rows x nchunks, so longer chunks take fewer, longer splits.
  VkDeviceSize blocks = VkDeviceSize(rows) * heads * s.nchunks;
  s.splits = s.nchunks;
  if (pmem_prefill_tile(ctx, head_dim).valid()) {
    const bool coop = ctx.pmem_matrix_units() && coop_usable(ctx, head_dim);
    const uint32_t partial_rows = coop ? kPmemCoopPartialRows : kPmemPartialRows;
    s.splits = std::clamp(partial_rows * s.nchunks / std::max(rows, 1u), 1u, s.nchunks);
    // Both tiled kernels stage the new state after their partials: one block per head more.
    blocks = VkDeviceSize(heads) * (std::max(std::min(rows, kPmemTiledMinRows - 1) * s.nchunks, rows * s.splits) + 1);
  }
  // The decode kernel (pmem_decode.comp) keeps its partials and their statistics there too.
  VkDeviceSize partial_bytes = blocks * head_dim * 4;
  if (const uint32_t wg = pmem_decode_workgroup(ctx, head_dim); wg != 0)
    partial_bytes = std::max(partial_bytes, pmem_decode_scratch_bytes(heads, head_dim, div_up(slots, wg)));
  // One buffer: partials, chunk statistics, completion counters ([rows, heads] per (row, head), then
  // one per head; zero, and left at zero), each part at an offset the device can bind.
  const VkDeviceSize align = std::max<VkDeviceSize>(ctx.device().limits().minStorageBufferOffsetAlignment, 16);
  auto aligned = [&](VkDeviceSize bytes) { return (bytes + align - 1) / align * align; };
  const VkDeviceSize stats_bytes = blocks * 8, counter_bytes = VkDeviceSize(rows + 1) * heads * 4;
  const VkDeviceSize stats_at = aligned(partial_bytes), counters_at = stats_at + aligned(stats_bytes);
  if (counters_at / 4 > UINT32_MAX) return unsupported("vulkan: pmem scratch too large for 32-bit offsets");
  TESSERA_ASSIGN_OR_RETURN(s.scratch, alloc.allocate(counters_at + counter_bytes, "pmem scratch"));
  s.partial = s.scratch.part(0, partial_bytes);
  s.stats = s.scratch.part(stats_at, stats_bytes);
  s.counters = s.scratch.part(counters_at, counter_bytes);
  TESSERA_RETURN_IF_ERROR(ctx.fill_zero(s.counters));
  return s;
}

Status record_pmem(Recording& rec, Context& ctx, const PmemCall& c, const PmemSlots& m, const PmemScratch& s) {
  const uint32_t wg = pmem_workgroup(ctx, c.head_dim);
  const uint32_t nchunks = (c.slots + wg - 1) / wg;
  if (wg != s.chunk || c.rows > s.rows || c.heads > s.heads || c.head_dim != s.head_dim || nchunks > s.nchunks)
    return internal_error("vulkan: pmem scratch shape does not match the call");
  const uint32_t bytes = m.wtype == WeightType::kF32 ? 4 : m.wtype == WeightType::kF16 ? 2 : 1;
  if ((c.head_dim * bytes) % 16 != 0 || c.slots == 0)
    return internal_error("vulkan: pmem slots must be whole 16-byte units per slot");
  TESSERA_RETURN_IF_ERROR(check_params(c.params, c.channels, c.heads, c.slots, c.slot_base, m.wtype));
  const uint32_t flags = (c.accumulate ? 1u : 0u) | (c.update_state ? 2u : 0u);
  PmemPush pp{c.channels, c.heads, c.slots, nchunks,        c.slot_base,     c.rows,
              flags,      c.eps,   c.scale, stats_index(s), counter_index(s)};
  if (pmem_uses_tiles(ctx, c)) {
    // The slots split into whole slot tiles, at least kPmemTilesPerSplit each (the queries and the
    // merge are paid once per split), at most as many splits as the scratch holds partials for.
    // N = 2688 with 64-slot tiles at 512 rows: 2 splits x 12 heads x 16 row tiles = 384 workgroups.
    // Shorter chunks than the scratch's rows may split further within the same partials; both
    // kernels index the partials with this stride (their heads' blocks never overlap).
    const uint32_t most = std::clamp(s.rows * s.splits / c.rows, 1u, s.nchunks);
    const uint32_t coop_heads = pmem_uses_matrix_units(ctx, c, m) ? m.matrix_heads & all_heads_below_32(c.heads) : 0u;
    if (coop_heads != 0) {
      const uint32_t tiles = div_up(c.slots, kCoopSlots);
      const uint32_t split_slots = div_up(tiles, std::min(most, div_up(tiles, kCoopTilesPerSplit))) * kCoopSlots;
      PmemPrefillCoopPush pt{c.channels, c.heads,     c.slots,    most,  c.slot_base, c.rows,
                             flags,      split_slots, coop_heads, c.eps, c.scale};
      TESSERA_RETURN_IF_ERROR(rec.dispatch<KernelId::kPmemPrefillCoopmatNv>(
          {kCoopWorkgroup, c.head_dim},
          {c.u, c.state, c.decay, c.qscale, m.keys, m.values, s.partial, s.stats, c.vscale, c.out, s.counters}, pt,
          {div_up(c.slots, split_slots), c.heads, div_up(c.rows, kCoopRows)}));
      if (c.heads <= 32 && coop_heads == all_heads_below_32(c.heads)) return Status::ok_status();
    }
    const PmemTile t = pmem_prefill_tile(ctx, c.head_dim);
    const uint32_t tiles = div_up(c.slots, t.slots);
    const uint32_t split_slots = div_up(tiles, std::min(most, div_up(tiles, kPmemTilesPerSplit))) * t.slots;
    const uint32_t nsplit = div_up(c.slots, split_slots);
    PmemPrefillPush pt{c.channels,  c.heads,     c.slots, most,    c.slot_base,    c.rows,          flags,
                       split_slots, ~coop_heads, c.eps,   c.scale, stats_index(s), counter_index(s)};
    return rec.dispatch<KernelId::kPmemPrefill>({t.workgroup, uint32_t(m.wtype), c.head_dim, t.rows, t.slots},
                                                {c.u, c.state, c.params, m.keys, m.values, c.out, s.scratch}, pt,
                                                {nsplit, c.heads, div_up(c.rows, t.rows)});
  }
  return rec.dispatch<KernelId::kPmemSoftmax>({wg, uint32_t(m.wtype), c.head_dim},
                                              {c.u, c.state, c.params, m.keys, m.values, c.out, s.scratch}, pp,
                                              {nchunks, c.heads, c.rows});
}

uint32_t pmem_decode_workgroup(const Context& ctx, uint32_t head_dim) {
  const KernelLimits& limits = ctx.limits();
  const uint32_t least = std::max(std::bit_ceil(std::max(head_dim, 1u)), limits.subgroups ? ctx.subgroup_size() : 1u);
  // shaders/pmem_decode.comp: qs[D], cs[WG], es[WG], red[4 WG] (vec4), reduce_slots[WG], ln_shared,
  // is_last, and the shared flavour's exchange words (WG).
  auto bytes = [&](uint32_t wg) { return 4ull * (head_dim + 2 * wg + 16 * wg + wg + 8 + 1 + wg); };
  // 256 slots per chunk: 11 chunks x 12 heads = 132 workgroups for N = 2688, each forming its head's
  // query once (half the redundant projection reads of 128-slot chunks).
  uint32_t wg = ctx.fit_workgroup(256);
  while (wg > least && bytes(wg) > limits.max_shared_bytes) wg /= 2;
  if (wg < least || bytes(wg) > limits.max_shared_bytes) return 0;
  return wg;
}

bool pmem_decode_usable(const Context& ctx, const GpuMatrix& w, uint32_t head_dim, uint32_t slots,
                        const PmemScratch& scratch) {
  const uint32_t wg = pmem_decode_workgroup(ctx, head_dim);
  if (wg == 0 || w.parts.size() != 1 || w.cols % 4 != 0 || scratch.heads == 0) return false;
  // shaders/pmem_decode.comp keeps a lane's key units and value units in registers, at most
  // MAX_UNITS = 32 each: 16-byte units per slot, and value units per lane VT = ceil(WG / (WG / units)).
  for (const uint32_t bytes : {4u, 2u, 1u}) {
    const uint32_t units = head_dim * bytes / 16;
    if ((head_dim * bytes) % 16 != 0) continue;
    if (units > 32 || units > wg || div_up(wg, wg / units) > 32) return false;
  }
  const uint32_t nchunks = pmem_decode_chunks(slots, wg);
  return scratch.partial.size >= pmem_decode_scratch_bytes(scratch.heads, head_dim, nchunks) &&
         scratch.counters.size >= VkDeviceSize(scratch.heads) * 4;
}

Status record_pmem_decode(Recording& rec, Context& ctx, const PmemDecodeCall& c, const PmemSlots& m,
                          const PmemScratch& s) {
  const uint32_t wg = pmem_decode_workgroup(ctx, c.head_dim);
  if (!c.w || !pmem_decode_usable(ctx, *c.w, c.head_dim, c.slots, s) || c.heads > s.heads ||
      uint32_t(c.w->rows) != c.channels || uint32_t(c.w->cols) != c.channels || c.heads * c.head_dim != c.channels)
    return internal_error("vulkan: pmem_decode does not fit this call (workgroup, weights or scratch)");
  const uint32_t bytes = m.wtype == WeightType::kF32 ? 4 : m.wtype == WeightType::kF16 ? 2 : 1;
  if ((c.head_dim * bytes) % 16 != 0 || c.slots == 0)
    return internal_error("vulkan: pmem slots must be whole 16-byte units per slot");
  if (c.x.offset % 4) return internal_error("vulkan: pmem_decode input must start at a multiple of 4 floats");
  TESSERA_RETURN_IF_ERROR(check_params(c.params, c.channels, c.heads, c.slots, c.slot_base, m.wtype));
  const GpuMatrix& w = *c.w;
  const uint32_t K = uint32_t(w.cols);
  const uint32_t welem = w.wtype == WeightType::kF32 ? 4 : w.wtype == WeightType::kF16 ? 2 : 1;
  const uint32_t vec16 = (K * welem) % 16 == 0 ? 1 : 0;
  // Lanes per slot in the scores: a power of two within the subgroup (the workgroup in the shared
  // flavour) and the slot's 16-byte units.
  const uint32_t units = c.head_dim * bytes / 16;
  const uint32_t subgroup = ctx.limits().subgroups ? ctx.subgroup_size() : wg;
  const uint32_t lanes = std::bit_floor(std::min(subgroup, units));
  const uint32_t nchunks = pmem_decode_chunks(c.slots, wg);
  const uint32_t flags = (w.has_bias ? 1u : 0u) | (c.accumulate ? 2u : 0u) | (c.ln ? 4u | (c.ln->flags << 3) : 0u) |
                         (c.update_state ? 32u : 0u);
  PmemDecodePush push{c.channels, c.heads,  c.slots, nchunks, c.slot_base,     1u, 0u, c.x.offset,
                      flags,      c.ln_eps, c.eps,   c.scale, counter_index(s)};
  return rec.dispatch<KernelId::kPmemDecode>({wg, uint32_t(w.wtype), K, vec16, uint32_t(m.wtype), c.head_dim, lanes},
                                             {c.x.buf, w.parts[0].weight, c.params, c.state, m.keys, m.values, c.out,
                                              s.scratch},
                                             push, {nchunks, c.heads, 1});
}

}  // namespace tessera::vk
