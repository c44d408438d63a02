#version 450
// Softmax attention, pass 1 of 2 (flash-decoding): one workgroup per (chunk of WG keys, head, row)
// computes the cosines (cosine.glsl: compensated, coalesced), the chunk max m, e_j = exp(beta^2 (c_j - m)),
// their sum and the partial output sum_j e_j v_j. attn_softmax_combine.comp rescales and merges.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
#define KV_CACHE_SPEC_ID 2
#include "kv_cache.glsl"
KV_CACHE_BUFFER(1, readonly, Q)  // the query: a key cache row (flags & 1) or float32 rows
KV_CACHE_BUFFER(2, readonly, K)
KV_CACHE_LOADS(Q)
KV_CACHE_LOADS(K)
KV_CACHE_BUFFER(3, readonly, V)  // d, bases, strides % 4 == 0
KV_CACHE_LOADS(V)
layout(std430, binding = 4) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 5) writeonly buffer PO { float partial[]; };
layout(std430, binding = 6) writeonly buffer ST { vec2 stats[]; };
layout(push_constant) uniform P {
  uint d, H, q_stride, flags, k_base, k_head_stride, k_key_stride, v_base, v_head_stride, v_key_stride;
  uint mask_offset, nkeys_fixed, row_base, nchunks;
} pc;
#include "attention_common.glsl"
#include "reduce.glsl"
shared float qs[WG];
shared float es[WG];
shared vec4 red4[WG];
#include "cosine.glsl"


void main() {
  uint chunk = gl_WorkGroupID.x, h = gl_WorkGroupID.y, rl = gl_WorkGroupID.z;
  uint tid = gl_LocalInvocationID.x;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (int(chunk * WG) >= nk) return;  // uniform; the combine reads only chunks below nk
  uint qrow = ((pc.flags & 1u) != 0u) ? step.pos0 + pc.row_base + rl : pc.row_base + rl;
  uint qe = qrow * pc.q_stride + h * pc.d + tid;
  if (tid < pc.d) qs[tid] = ((pc.flags & 1u) != 0u) ? Q_load(qe) : Q_f32[qe];
  barrier();
  chunk_cosines(chunk, nk, pc.k_base + h * pc.k_head_stride, pc.k_key_stride, pc.d);
  uint j = chunk * WG + tid;
  float c = cs[tid];
  float m = wg_max(c);
  float e = int(j) < nk ? exp(head_scale[h] * (c - m)) : 0.0;
  es[tid] = e;
  float z = wg_sum(e);  // its barriers also publish es[]
  // Values as vec4: threads = (lane g, channel quad c4), G = WG / (d/4) lanes split the chunk's keys.
  uint D4 = pc.d / 4u, G = WG / D4, g = tid / D4, c4 = tid % D4;
  uint keys_here = min(WG, uint(nk) - chunk * WG);
  uint stride4 = pc.v_key_stride / 4u;
  vec4 acc0 = vec4(0.0), acc1 = vec4(0.0);
  if (DH != 0u) {
    // Head size known (specialised): WG / G keys per lane, every load issued before the sums use
    // them (clamped to the last key of the chunk, weight 0 there: no branch around the loads).
    const uint NPL = (WG + WG / (DH / 4u) - 1u) / (WG / (DH / 4u));  // keys per lane: ceil(WG / G)
    uint vb = (pc.v_base + h * pc.v_head_stride + chunk * WG * pc.v_key_stride) / 4u + c4;
    if (g < G) {
      for (uint i = 0u; i < NPL; i += 2u) {
        uint ja = g + i * G, jb = ja + G;
        vec4 va = V_load4(vb + min(ja, keys_here - 1u) * stride4);
        vec4 vb2 = V_load4(vb + min(jb, keys_here - 1u) * stride4);
        acc0 += (ja < keys_here ? es[ja] : 0.0) * va;
        acc1 += (jb < keys_here ? es[jb] : 0.0) * vb2;
      }
    }
  } else if (g < G) {
    uint vb = (pc.v_base + h * pc.v_head_stride + chunk * WG * pc.v_key_stride) / 4u + c4;
    uint jj = g;
    for (; jj + G < keys_here; jj += 2u * G) {  // two independent accumulators: loads in flight
      acc0 += es[jj] * V_load4(vb + jj * stride4);
      acc1 += es[jj + G] * V_load4(vb + (jj + G) * stride4);
    }
    if (jj < keys_here) acc0 += es[jj] * V_load4(vb + jj * stride4);
  }
  red4[tid] = acc0 + acc1;
  barrier();
  if (tid < D4) {
    vec4 s = vec4(0.0);
    for (uint gg = 0u; gg < G; ++gg) s += red4[gg * D4 + tid];
    uint o = ((rl * pc.H + h) * pc.nchunks + chunk) * pc.d + 4u * tid;
    partial[o] = s.x; partial[o + 1u] = s.y; partial[o + 2u] = s.z; partial[o + 3u] = s.w;
  }
  if (tid == 0u) stats[(rl * pc.H + h) * pc.nchunks + chunk] = vec2(m, z);
}
