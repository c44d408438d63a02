// Recording of the persistent memory: one dispatch (shaders/pmem_softmax.comp) per memory: the
// query's leaky average, flash-decoding over the N slots, the merge by the last workgroup of each
// (row, head), and the state update by the last merge of each head.
#include <algorithm>
#include <bit>

#include "vulkan/ops.h"

namespace tessera::vk {

uint32_t pmem_workgroup(const Context& ctx, uint32_t head_dim) {
  // 128 slots per chunk: 21 chunks x 12 heads = 252 workgroups for N = 2688 (about two per H100 SM).
  return std::max({128u, ctx.subgroup_size(), std::bit_ceil(head_dim)});
}

namespace {
// With the projection inside, 256 slots per chunk (11 x 12 = 132 workgroups for N = 2688, one per
// H100 SM): each workgroup also computes the head's 64 x 768 projection, so fewer chunks read it
// fewer times; per-thread work on the slots is the same (more subgroups per chunk).
uint32_t pmem_project_workgroup(const Context& ctx, uint32_t head_dim) {
  return std::max(2 * pmem_workgroup(ctx, head_dim), 256u);
}
}  // namespace

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
  const bool project = c.proj != nullptr;
  if (project && (c.rows != 1 || c.proj->parts.size() != 1 || c.x.offset % 4 || c.x.stride % 4 ||
                  c.proj->rows != int64_t(c.channels)))
    return internal_error("vulkan: the in-kernel pmem projection needs one row and a one-part C x C matrix");
  const uint32_t wg = project ? pmem_project_workgroup(ctx, c.head_dim) : pmem_workgroup(ctx, c.head_dim);
  const uint32_t nchunks = (c.slots + wg - 1) / wg;
  if (wg % s.chunk != 0 || c.rows > s.rows || c.heads > s.heads || c.head_dim != s.head_dim || nchunks > s.nchunks)
    return internal_error("vulkan: pmem scratch shape does not match the call");
  const uint32_t bytes = m.wtype == WeightType::kF32 ? 4 : m.wtype == WeightType::kF16 ? 2 : 1;
  if ((c.head_dim * bytes) % 16 != 0 || c.slots == 0)
    return internal_error("vulkan: pmem slots must be whole 16-byte units per slot");
  uint32_t flags = (c.accumulate ? 1u : 0u) | (c.update_state ? 2u : 0u);
  uint32_t mtype = 0, K = 4, vec16 = 0;  // the projection's specialization (unused without one)
  const BufferSlice& dm = ctx.dummy();
  BufferSlice xb = dm, wb = dm, wsc = dm, wbias = dm, lw = dm, lb = dm;
  if (project) {
    const GpuMatrix& w = *c.proj;
    const auto& part = w.parts[0];
    mtype = uint32_t(w.wtype);
    K = uint32_t(w.cols);
    const uint32_t eb = w.wtype == WeightType::kF32 ? 4 : w.wtype == WeightType::kF16 ? 2 : 1;
    vec16 = (K * eb) % 16 == 0 ? 1 : 0;
    flags |= 32u | (w.has_bias ? 64u : 0u) | (c.ln ? 4u | (c.ln->flags << 3) : 0u);
    xb = c.x.buf;
    wb = part.weight;
    wsc = part.scale;
    wbias = part.bias;
    if (c.ln) {
      lw = c.ln->weight;
      lb = c.ln->bias;
    }
  }
  struct {
    uint32_t C, H, N, nchunks, slot_base, n, flags, x_stride, x_offset;
    float eps, scale, ln_eps;
  } pp{c.channels, c.heads, c.slots, nchunks, c.slot_base, c.rows, flags, c.x.stride, c.x.offset,
       c.eps, c.scale, c.ln_eps};
  const BufferSlice& ks = m.key_scale.valid() ? m.key_scale : dm;
  const BufferSlice& vs = m.value_scale.valid() ? m.value_scale : dm;
  return rec.dispatch("pmem_softmax", {wg, mtype, K, vec16, uint32_t(m.wtype), c.head_dim},
                      {project ? dm : c.u, c.state, c.decay, c.qscale, m.keys, ks, m.values, vs, s.partial, s.stats,
                       c.vscale, c.out, s.counters, xb, wb, wsc, wbias, lw, lb},
                      pp, {nchunks, c.heads, c.rows});
}

}  // namespace tessera::vk
