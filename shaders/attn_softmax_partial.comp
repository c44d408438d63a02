#version 450
// Softmax attention, pass 1 of 2 (flash-decoding): one workgroup per (chunk of WG keys, head, row)
// computes the cosines (cosine.glsl: compensated, coalesced), the chunk max m, e_j = exp(beta^2 (c_j - m)),
// their sum and the partial output sum_j e_j v_j. attn_softmax_combine.comp rescales and merges.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer Q { float q[]; };
layout(std430, binding = 2) readonly buffer K { float k[]; };
layout(std430, binding = 3) readonly buffer V { float vals[]; };
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
shared float red[WG];
#include "cosine.glsl"


void main() {
  uint chunk = gl_WorkGroupID.x, h = gl_WorkGroupID.y, rl = gl_WorkGroupID.z;
  uint tid = gl_LocalInvocationID.x;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (int(chunk * WG) >= nk) return;  // uniform; the combine reads only chunks below nk
  uint qrow = ((pc.flags & 1u) != 0u) ? step.pos0 + pc.row_base + rl : pc.row_base + rl;
  if (tid < pc.d) qs[tid] = q[qrow * pc.q_stride + h * pc.d + tid];
  barrier();
  chunk_cosines(chunk, nk, pc.k_base + h * pc.k_head_stride, pc.k_key_stride, pc.d);
  uint j = chunk * WG + tid;
  float c = cs[tid];
  float m = wg_max(c);
  float e = int(j) < nk ? exp(head_scale[h] * (c - m)) : 0.0;
  es[tid] = e;
  float z = wg_sum(e);  // its barriers also publish es[]
  uint G = WG / pc.d, g = tid / pc.d, ch = tid % pc.d;
  uint keys_here = min(WG, uint(nk) - chunk * WG);
  float acc0 = 0.0, acc1 = 0.0;
  if (g < G) {
    uint vb = pc.v_base + h * pc.v_head_stride + chunk * WG * pc.v_key_stride + ch;
    uint jj = g;
    for (; jj + G < keys_here; jj += 2u * G) {  // two independent accumulators: loads in flight
      acc0 += es[jj] * vals[vb + jj * pc.v_key_stride];
      acc1 += es[jj + G] * vals[vb + (jj + G) * pc.v_key_stride];
    }
    if (jj < keys_here) acc0 += es[jj] * vals[vb + jj * pc.v_key_stride];
  }
  red[tid] = acc0 + acc1;
  barrier();
  if (tid < pc.d) {
    float s = 0.0;
    for (uint gg = 0u; gg < G; ++gg) s += red[gg * pc.d + tid];
    partial[((rl * pc.H + h) * pc.nchunks + chunk) * pc.d + tid] = s;
  }
  if (tid == 0u) stats[(rl * pc.H + h) * pc.nchunks + chunk] = vec2(m, z);
}
