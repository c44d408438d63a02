#version 450
// Attention pass 3: partial o = sum_j e_j v_j over one chunk of keys for one (row, head).
// Threads are (key lane g, channel quad c4); zero weights (outside a sparse support) skip the value
// read. Head size, bases and strides are multiples of 4 (checked by the host).
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer S { float weights[]; };
#define KV_CACHE_SPEC_ID 1
#include "kv_cache.glsl"
KV_CACHE_BUFFER(2, readonly, V)
KV_CACHE_LOADS(V)
layout(std430, binding = 3) writeonly buffer PO { float partial[]; };
layout(push_constant) uniform P {
  uint d, H, v_base, v_head_stride, v_key_stride;
  uint mask_offset, nkeys_fixed, row_base, s_stride, chunk_keys, nvchunks;
} pc;
#include "attention_common.glsl"
shared vec4 red4[WG];

void main() {
  uint chunk = gl_WorkGroupID.x, h = gl_WorkGroupID.y, rl = gl_WorkGroupID.z;
  uint tid = gl_LocalInvocationID.x;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  uint start = chunk * pc.chunk_keys;
  if (int(start) >= nk) return;  // uniform; the combine pass reads only chunks below nk
  uint end = min(start + pc.chunk_keys, uint(nk));
  uint D4 = pc.d / 4u, G = WG / D4, g = tid / D4, c4 = tid % D4;
  uint row = rl * pc.H + h, stride4 = pc.v_key_stride / 4u;
  vec4 acc0 = vec4(0.0), acc1 = vec4(0.0);
  if (g < G) {
    uint vb = (pc.v_base + h * pc.v_head_stride) / 4u + c4;
    // Batches of 8 keys per lane: the 8 weights are loaded together, then the nonzero ones' values
    // (independent loads in flight; a weight-then-value chain per key would serialise 2 latencies).
    for (uint j0 = start + g; j0 < end; j0 += 8u * G) {
      float e[8];
      [[unroll]] for (uint u = 0u; u < 8u; ++u) {
        uint j = j0 + u * G;
        e[u] = j < end ? weights[row * pc.s_stride + j] : 0.0;
      }
      [[unroll]] for (uint u = 0u; u < 8u; u += 2u) {
        if (e[u] != 0.0) acc0 += e[u] * V_load4(vb + (j0 + u * G) * stride4);
        if (e[u + 1u] != 0.0) acc1 += e[u + 1u] * V_load4(vb + (j0 + (u + 1u) * G) * stride4);
      }
    }
  }
  red4[tid] = acc0 + acc1;
  barrier();
  if (tid < D4) {
    vec4 s = vec4(0.0);
    for (uint gg = 0u; gg < G; ++gg) s += red4[gg * D4 + tid];
    uint o = (row * pc.nvchunks + chunk) * pc.d + 4u * tid;
    partial[o] = s.x; partial[o + 1u] = s.y; partial[o + 2u] = s.z; partial[o + 3u] = s.w;
  }
}
