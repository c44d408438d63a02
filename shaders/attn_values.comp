#version 450
// Attention pass 3: partial o = sum_j e_j v_j over one chunk of keys for one (row, head).
// Threads are (key lane g, channel c); zero weights (outside a sparse support) skip the value read.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer S { float weights[]; };
layout(std430, binding = 2) readonly buffer V { float vals[]; };
layout(std430, binding = 3) writeonly buffer PO { float partial[]; };
layout(push_constant) uniform P {
  uint d, H, v_base, v_head_stride, v_key_stride;
  uint mask_offset, nkeys_fixed, row_base, s_stride, chunk_keys, nvchunks;
} pc;
#include "attention_common.glsl"
shared float red[WG];

void main() {
  uint chunk = gl_WorkGroupID.x, h = gl_WorkGroupID.y, rl = gl_WorkGroupID.z;
  uint tid = gl_LocalInvocationID.x;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  uint start = chunk * pc.chunk_keys;
  if (int(start) >= nk) return;  // uniform; the combine pass reads only chunks below nk
  uint end = min(start + pc.chunk_keys, uint(nk));
  uint G = WG / pc.d, g = tid / pc.d, c = tid % pc.d;
  uint row = rl * pc.H + h;
  float acc = 0.0;
  if (g < G) {
    uint vb = pc.v_base + h * pc.v_head_stride + c;
    for (uint j = start + g; j < end; j += G) {
      float e = weights[row * pc.s_stride + j];
      if (e != 0.0) acc += e * vals[vb + j * pc.v_key_stride];
    }
  }
  red[tid] = acc;
  barrier();
  if (tid < pc.d) {
    float s = 0.0;
    for (uint gg = 0u; gg < G; ++gg) s += red[gg * pc.d + tid];
    partial[(row * pc.nvchunks + chunk) * pc.d + tid] = s;
  }
}
