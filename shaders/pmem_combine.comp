#version 450
// Persistent memory, pass 2 of 2, one workgroup per (head, row): merges the chunk partials of
// pmem_partial.comp, o = sum_i partial_i e^(m_i - M) / sum_i z_i e^(m_i - M) with M = max m_i, then
// out (+)= scale · vscale[h] · o. With flag 2 the workgroup of the last row also advances the
// carried leaky state over this forward's rows (the partial pass only read it; every partial
// workgroup has finished before this dispatch, so nothing reads the old state afterwards).
#include "common.glsl"
layout(constant_id = 2) const uint D = 64;
layout(std430, binding = 0) readonly buffer PO { float partial[]; };
layout(std430, binding = 1) readonly buffer ST { vec2 stats[]; };
layout(std430, binding = 2) readonly buffer VS { float vscale[]; };
layout(std430, binding = 3) buffer O { float outv[]; };
layout(std430, binding = 4) readonly buffer U { float u[]; };
layout(std430, binding = 5) buffer St { float state[]; };
layout(std430, binding = 6) readonly buffer Dc { float decay[]; };
layout(push_constant) uniform P { uint C, H, n, nchunks, flags; float scale; } pc;  // flags: 1 accumulate, 2 state
#include "reduce.glsl"

void main() {
  uint h = gl_WorkGroupID.x, rl = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h;
  float M = NEG_INF;
  for (uint i = tid; i < pc.nchunks; i += WG) M = max(M, stats[row * pc.nchunks + i].x);
  M = wg_max(M);
  float z = 0.0;
  for (uint i = tid; i < pc.nchunks; i += WG) {
    vec2 st = stats[row * pc.nchunks + i];
    z += st.y * exp(st.x - M);
  }
  z = wg_sum(z);
  // Threads = (group g, channel c): groups split the chunks, then a shared reduction.
  uint G = max(WG / D, 1u), g = tid / D, c = tid % D;
  float acc = 0.0;
  if (g < G)
    for (uint i = g; i < pc.nchunks; i += G)
      acc += partial[(row * pc.nchunks + i) * D + c] * exp(stats[row * pc.nchunks + i].x - M);
  reduce_slots[tid] = acc;
  barrier();
  if (tid < D) {
    float s = 0.0;
    for (uint gg = 0u; gg < G; ++gg) s += reduce_slots[gg * D + tid];
    uint o = rl * pc.C + h * D + tid;
    float v = pc.scale * vscale[h] * s / z;
    outv[o] = ((pc.flags & 1u) != 0u) ? outv[o] + v : v;
    if ((pc.flags & 2u) != 0u && rl + 1u == pc.n) {
      uint ch = h * D + tid;
      float a = decay[h], st = state[ch];
      for (uint r = 0u; r < pc.n; ++r) st = a * st + (1.0 - a) * u[r * pc.C + ch];
      state[ch] = st;
    }
  }
}
