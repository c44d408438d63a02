// Recording of the persistent memory: one dispatch (shaders/pmem_softmax.comp) per memory: the
// query's leaky average, flash-decoding over the N slots, the merge by the last workgroup of each
// (row, head), and the state update by the last merge of each head.
#include <algorithm>
#include <bit>

#include "vulkan/ops.h"

namespace tessera::vk {
namespace {
struct PmemPush {
  uint32_t C, H, N, nchunks, slot_base, n, flags;  // flags: 1 accumulate into out, 2 advance the state
  float eps, scale;
};
TESSERA_VK_PUSH_CONTRACT(pmem_softmax, PmemPush);
}  // namespace

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
  const VkDeviceSize blocks = VkDeviceSize(rows) * heads * s.nchunks;
  TESSERA_ASSIGN_OR_RETURN(s.partial, alloc.allocate(blocks * head_dim * 4, "pmem partials"));
  TESSERA_ASSIGN_OR_RETURN(s.stats, alloc.allocate(blocks * 8, "pmem chunk statistics"));
  // Completion counters: [rows, heads] per (row, head), then one per head; zero, and left at zero.
  TESSERA_ASSIGN_OR_RETURN(s.counters, alloc.allocate(VkDeviceSize(rows + 1) * heads * 4, "pmem counters"));
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
  PmemPush pp{
      c.channels, c.heads, c.slots, nchunks, c.slot_base, c.rows, (c.accumulate ? 1u : 0u) | (c.update_state ? 2u : 0u),
      c.eps,      c.scale};
  const BufferSlice& ks = m.key_scale.valid() ? m.key_scale : ctx.dummy();
  const BufferSlice& vs = m.value_scale.valid() ? m.value_scale : ctx.dummy();
  return rec.dispatch<KernelId::kPmemSoftmax>({wg, uint32_t(m.wtype), c.head_dim},
                                              {c.u, c.state, c.decay, c.qscale, m.keys, ks, m.values, vs, s.partial,
                                               s.stats, c.vscale, c.out, s.counters},
                                              pp, {nchunks, c.heads, c.rows});
}

}  // namespace tessera::vk
