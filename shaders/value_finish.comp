#version 450
// Value peek/lag: v_j = vscale[h] * n(ṽ_j), ṽ_j = (1 - c_h) w_{j+1} + c_h w_j, for j = pos0 - 1 + r.
// w_ext row 0 holds w_{pos0-1} (the previous forward's last row), rows 1..n the fed rows.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer Wext { float w_ext[]; };
layout(std430, binding = 2) readonly buffer Mix { float mixc[]; };
layout(std430, binding = 3) readonly buffer Vs { float vscale[]; };
layout(std430, binding = 4) writeonly buffer Vc { float vcache[]; };
layout(push_constant) uniform P { uint C, d; float eps; } pc;
#include "reduce.glsl"

void main() {
  uint h = gl_WorkGroupID.x, r = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  int j = int(step.pos0) - 1 + int(r);
  if (j < 0) return;  // uniform: the first token's value waits for the next token
  float c = mixc[h];
  uint b0 = r * pc.C + h * pc.d, b1 = b0 + pc.C;
  float q = 0.0;
  for (uint i = tid; i < pc.d; i += WG) {
    float v = (1.0 - c) * w_ext[b1 + i] + c * w_ext[b0 + i];
    q += v * v;
  }
  float norm = sqrt(wg_sum(q)) + pc.eps;
  float sc = vscale[h];
  for (uint i = tid; i < pc.d; i += WG) {
    float v = (1.0 - c) * w_ext[b1 + i] + c * w_ext[b0 + i];
    vcache[uint(j) * pc.C + h * pc.d + i] = sc * (v / norm);
  }
}
