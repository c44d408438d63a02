#version 450
// Greedy decoding on the GPU: index of the largest logit of one row (lowest index on ties).
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float logits[]; };
layout(std430, binding = 1) writeonly buffer R { uint result[]; };
layout(push_constant) uniform P { uint V, row; } pc;
shared float bv[WG];
shared uint bi[WG];

void main() {
  uint tid = gl_LocalInvocationID.x;
  float v = NEG_INF;
  uint idx = 0xffffffffu;
  for (uint j = tid; j < pc.V; j += WG) {
    float x = logits[pc.row * pc.V + j];
    if (idx == 0xffffffffu || x > v) { v = x; idx = j; }
  }
  bv[tid] = v; bi[tid] = idx;
  barrier();
  for (uint s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      float ov = bv[tid + s]; uint oi = bi[tid + s];
      if (oi != 0xffffffffu && (bi[tid] == 0xffffffffu || ov > bv[tid] || (ov == bv[tid] && oi < bi[tid]))) {
        bv[tid] = ov; bi[tid] = oi;
      }
    }
    barrier();
  }
  if (tid == 0u) result[0] = bi[0];
}
