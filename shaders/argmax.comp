#version 450
// Greedy decoding on the GPU: index of the largest logit of one row (lowest index on ties).
// Many workgroups (one SM reading a 200 KB row was a long serial tail of the decode step) each
// reduce a grid-strided share to one (value, index) pair; the last workgroup to finish, found
// with an atomic counter, reduces the pairs and resets the counter for the next replay. The
// partial writes are made visible by memoryBarrierBuffer before the counter increment (release)
// and after observing the final count (acquire); `scratch` is coherent.
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float logits[]; };
layout(std430, binding = 1) writeonly buffer R { uint result[]; };
layout(std430, binding = 2) coherent buffer Scr { uint counter; uint pad[3]; float pv[1024]; uint pi[1024]; } scr;
layout(push_constant) uniform P { uint V, row; } pc;
shared float bv[WG];
shared uint bi[WG];
shared bool last;

bool better(float v, uint i, float ov, uint oi) {  // is (ov, oi) preferred over (v, i)?
  return oi != 0xffffffffu && (i == 0xffffffffu || ov > v || (ov == v && oi < i));
}

void reduce_shared(uint tid) {
  barrier();
  for (uint s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s && better(bv[tid], bi[tid], bv[tid + s], bi[tid + s])) {
      bv[tid] = bv[tid + s];
      bi[tid] = bi[tid + s];
    }
    barrier();
  }
}

void main() {
  uint tid = gl_LocalInvocationID.x, g = gl_WorkGroupID.x, G = gl_NumWorkGroups.x;
  float v = NEG_INF;
  uint idx = 0xffffffffu;
  for (uint j = g * WG + tid; j < pc.V; j += G * WG) {  // ascending j: strict > keeps the lowest index
    float x = logits[pc.row * pc.V + j];
    if (idx == 0xffffffffu || x > v) { v = x; idx = j; }
  }
  bv[tid] = v; bi[tid] = idx;
  reduce_shared(tid);
  if (tid == 0u) {
    scr.pv[g] = bv[0];
    scr.pi[g] = bi[0];
    memoryBarrierBuffer();
    last = atomicAdd(scr.counter, 1u) == G - 1u;
  }
  barrier();
  if (!last) return;  // uniform: `last` is shared
  memoryBarrierBuffer();
  v = NEG_INF;
  idx = 0xffffffffu;
  for (uint i = tid; i < G; i += WG)
    if (better(v, idx, scr.pv[i], scr.pi[i])) { v = scr.pv[i]; idx = scr.pi[i]; }
  bv[tid] = v; bi[tid] = idx;
  reduce_shared(tid);
  if (tid == 0u) {
    result[0] = bi[0];
    scr.counter = 0u;
  }
}
