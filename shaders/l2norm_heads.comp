#version 450
// Per-head L2 normalisation: out = scale[h] * x / (||x|| + eps) over each head's d channels.
// Keys go to the cache at row pos0 + r (flag 2); the persistent-memory query is scaled by beta'^2.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer In { float xin[]; };
layout(std430, binding = 2) readonly buffer Sc { float head_scale[]; };
layout(std430, binding = 3) writeonly buffer Out { float xout[]; };
layout(push_constant) uniform P { uint C, d, flags; float eps; } pc;  // flags: 1 scale, 2 rows at pos0
#include "reduce.glsl"

void main() {
  uint h = gl_WorkGroupID.x, r = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  uint ib = r * pc.C + h * pc.d;
  float q = 0.0;
  for (uint i = tid; i < pc.d; i += WG) q += xin[ib + i] * xin[ib + i];
  float norm = sqrt(wg_sum(q)) + pc.eps;
  float sc = ((pc.flags & 1u) != 0u) ? head_scale[h] : 1.0;
  uint orow = ((pc.flags & 2u) != 0u) ? step.pos0 + r : r;
  for (uint i = tid; i < pc.d; i += WG) xout[orow * pc.C + h * pc.d + i] = sc * (xin[ib + i] / norm);
}
