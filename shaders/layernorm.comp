#version 450
// LayerNorm over C channels, one workgroup per row (two-pass mean / variance, biased variance).
// `in` and `out` may be the same buffer (post-LN): each thread writes only what it read.
#include "common.glsl"
layout(std430, binding = 0) readonly buffer In { float xin[]; };
layout(std430, binding = 1) readonly buffer Wt { float weight[]; };
layout(std430, binding = 2) readonly buffer Bs { float bias[]; };
layout(std430, binding = 3) buffer Out { float xout[]; };
layout(push_constant) uniform P { uint C, in_row0, out_row0, flags; float eps; } pc;  // flags: 1 weight, 2 bias
#include "reduce.glsl"

void main() {
  uint r = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
  uint ib = (pc.in_row0 + r) * pc.C, ob = (pc.out_row0 + r) * pc.C;
  float s = 0.0;
  for (uint c = tid; c < pc.C; c += WG) s += xin[ib + c];
  float mean = wg_sum(s) / float(pc.C);
  float q = 0.0;
  for (uint c = tid; c < pc.C; c += WG) { float d = xin[ib + c] - mean; q += d * d; }
  float inv = inversesqrt(wg_sum(q) / float(pc.C) + pc.eps);
  for (uint c = tid; c < pc.C; c += WG) {
    float v = (xin[ib + c] - mean) * inv;
    if ((pc.flags & 1u) != 0u) v *= weight[c];
    if ((pc.flags & 2u) != 0u) v += bias[c];
    xout[ob + c] = v;
  }
}
