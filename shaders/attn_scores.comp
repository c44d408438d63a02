#version 450
// Attention pass 1: cosines c_j = q · k_j for one (row, head) and one chunk of WG keys (cosine.glsl:
// compensated, coalesced) and the chunk maximum. The score scale (beta^2) is applied by the
// transform pass on differences c_j - max c.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
#define KV_CACHE_SPEC_ID 2
#include "kv_cache.glsl"
KV_CACHE_BUFFER(1, readonly, Q)  // the query: a key cache row (flags & 1) or float32 rows
KV_CACHE_BUFFER(2, readonly, K)
KV_CACHE_LOADS(Q)
KV_CACHE_LOADS(K)
layout(std430, binding = 3) writeonly buffer S { float scores[]; };
layout(std430, binding = 4) writeonly buffer CM { float chunk_max[]; };
layout(push_constant) uniform P {
  uint d, H, q_stride, flags;  // flags: 1 = query row is the cache row pos0 + row (context memory)
  uint k_base, k_head_stride, k_key_stride;
  uint mask_offset, nkeys_fixed, row_base, s_stride, nchunks;
} pc;
#include "attention_common.glsl"
#include "reduce.glsl"
shared float qs[WG];
#include "cosine.glsl"

void main() {
  // Heads fastest: workgroups issued together read neighbouring parts of the same key rows.
  uint h = gl_WorkGroupID.x, chunk = gl_WorkGroupID.y, rl = gl_WorkGroupID.z;
  uint tid = gl_LocalInvocationID.x;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (int(chunk * WG) >= nk) return;  // uniform per workgroup
  uint qrow = ((pc.flags & 1u) != 0u) ? step.pos0 + pc.row_base + rl : pc.row_base + rl;
  uint qe = qrow * pc.q_stride + h * pc.d + tid;
  if (tid < pc.d) qs[tid] = ((pc.flags & 1u) != 0u) ? Q_load(qe) : Q_f32[qe];
  barrier();
  chunk_cosines(chunk, nk, pc.k_base + h * pc.k_head_stride, pc.k_key_stride, pc.d);
  uint j = chunk * WG + tid;
  float c = cs[tid];
  if (int(j) < nk) scores[(rl * pc.H + h) * pc.s_stride + j] = c;
  float m = wg_max(c);
  if (tid == 0u) chunk_max[(rl * pc.H + h) * pc.nchunks + chunk] = m;
}
