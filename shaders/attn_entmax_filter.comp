#version 450
// Split exact entmax (r = 1, 2, 3), pass 1 of 3: the bracket filter over one segment of SEG = WG * KPT
// keys of a (row, head). tau >= max y - 1 (docs/attention.md, bracket), so only y_j > -1 can be in the
// support; those candidates are compacted, in a fixed order (thread, then its keys), into the
// segment's slice of `cand` and their number into seg_count; their key indices go to the same
// places of the index list (cand words from pc.index_offset on), from which the threshold pass
// compacts the support. No atomics: the lists are deterministic, so every later sum is too. The y
// list is padded with -2 (below every threshold step) to a multiple of pc.unit (4 where the score
// rows allow), so the threshold pass reads whole units.
// Many workgroups per head (the single-workgroup attn_entmax read the whole row alone).
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer S { float scores[]; };
layout(std430, binding = 2) readonly buffer CM { float chunk_max[]; };
layout(std430, binding = 3) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 4) writeonly buffer CA { float cand[]; };
layout(std430, binding = 4) writeonly buffer CI { uint cand_index[]; };
layout(std430, binding = 5) writeonly buffer SC { uint seg_count[]; };
layout(std430, binding = 6) writeonly buffer ST { uint state[]; };
layout(push_constant) uniform P {
  uint H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size, nseg, unit, index_offset;
  float alpha_minus_1;
} pc;
layout(constant_id = 1) const uint KPT = 16;  // keys per thread (strided by WG), <= MAX_KPT (host: 16)
const uint MAX_KPT = 16u;
#include "attention_common.glsl"
#include "reduce.glsl"
#include "entmax_common.glsl"
shared uint sg_total[WG];

void main() {
  uint seg = gl_WorkGroupID.x, h = gl_WorkGroupID.y, rl = gl_WorkGroupID.z, tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h, base = row * pc.s_stride;
  int nki = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  // The state of this (row, head) starts at 0 for every attention. Zeroed
  // here rather than by a transfer fill: the fill needed transfer barriers on both sides (the previous
  // attention's passes still read the same scratch), these stores are ordered by compute barriers.
  if (seg == 0u && tid == 0u)
    for (uint w = 0u; w < ES_WORDS; ++w) state[row * ES_WORDS + w] = 0u;
  uint SEG = WG * KPT, start = seg * SEG;
  if (nki <= 0 || int(start) >= nki) return;  // uniform per workgroup; later passes read nseg(nk) only
  uint nk = uint(nki);
  // Row maximum from the chunk maxima of the scores pass (every workgroup derives the same value).
  uint nch = (nk + pc.chunk_size - 1u) / pc.chunk_size;
  float m = NEG_INF;
  for (uint i = tid; i < nch; i += WG) m = max(m, chunk_max[row * pc.nchunks + i]);
  m = wg_max(m);
  float yscale = pc.alpha_minus_1 * head_scale[h];
  // Compile-time bound, guard on KPT: unrolled, y[] stays in registers.
  float y[MAX_KPT];
  uint c = 0u;
  [[unroll]] for (uint k = 0u; k < MAX_KPT; ++k) {  // coalesced: key start + k * WG + tid
    uint j = start + k * WG + tid;
    y[k] = k < KPT && j < nk ? yscale * (scores[base + j] - m) : -2.0;
    if (y[k] > -1.0) ++c;
  }
  // Exclusive scan of the per-thread counts: subgroup scan + per-subgroup totals in order.
  uint before = subgroupExclusiveAdd(c);
  uint total_sg = subgroupAdd(c);
  if (subgroupElect()) sg_total[gl_SubgroupID] = total_sg;
  barrier();
  uint off = 0u, all = 0u;
  for (uint s = 0u; s < gl_NumSubgroups; ++s) {
    if (s < gl_SubgroupID) off += sg_total[s];
    all += sg_total[s];
  }
  uint dst = base + start + off + before;
  [[unroll]] for (uint k = 0u; k < MAX_KPT; ++k) {
    if (y[k] > -1.0) {
      cand[dst] = y[k];
      cand_index[pc.index_offset + dst++] = start + k * WG + tid;
    }
  }
  if (tid == 0u)
    for (uint k = all; k % pc.unit != 0u; ++k) cand[base + start + k] = -2.0;
  if (tid == 0u) {
    seg_count[row * pc.nseg + seg] = all;
    if (seg == 0u) state[row * ES_WORDS + ES_MAX] = floatBitsToUint(m);
  }
}
