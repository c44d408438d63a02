#version 450
// Leaky average + per-head unit normalisation in one pass, one workgroup per head, rows in order:
// s_t = a s_{t-1} + (1 - a) u_t, out = scale[h] · s_t / (||s_t|| + eps). Keys go to the cache row
// pos0 + r (flag 2); the persistent-memory query is scaled by beta'^2 (flag 1).
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer U { float u[]; };
layout(std430, binding = 2) buffer State { float state[]; };
layout(std430, binding = 3) readonly buffer Decay { float decay[]; };
layout(std430, binding = 4) readonly buffer Sc { float head_scale[]; };
layout(std430, binding = 5) writeonly buffer Out { float xout[]; };
layout(push_constant) uniform P { uint C, d, n, flags; float eps; } pc;  // flags: 1 scale, 2 rows at pos0
#include "reduce.glsl"

void main() {
  uint h = gl_WorkGroupID.x, i = gl_LocalInvocationID.x;  // WG >= d (checked at load)
  bool live = i < pc.d;
  uint c = h * pc.d + i;
  float a = decay[h], s = live ? state[c] : 0.0;
  float sc = ((pc.flags & 1u) != 0u) ? head_scale[h] : 1.0;
  uint row0 = ((pc.flags & 2u) != 0u) ? step.pos0 : 0u;
  for (uint r = 0u; r < pc.n; ++r) {
    if (live) s = a * s + (1.0 - a) * u[r * pc.C + c];
    float norm = sqrt(wg_sum(live ? s * s : 0.0)) + pc.eps;
    if (live) xout[(row0 + r) * pc.C + c] = sc * (s / norm);
  }
  if (live) state[c] = s;
}
