#version 450
// Value peek/lag, one workgroup per head, rows in order: v_j = vscale[h] · ṽ_j / (||ṽ_j|| + eps),
// ṽ_j = (1 - c_h) w_{j+1} + c_h w_j for j = pos0 - 1 + r. w_prev holds w_{pos0-1} (from the
// previous forward) and receives this forward's last row; each thread owns its channel, so the
// read-then-write needs no barrier.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer Wr { float w[]; };
layout(std430, binding = 2) buffer Wp { float w_prev[]; };
layout(std430, binding = 3) readonly buffer Mix { float mixc[]; };
layout(std430, binding = 4) readonly buffer Vs { float vscale[]; };
layout(std430, binding = 5) writeonly buffer Vc { float vcache[]; };
layout(push_constant) uniform P { uint C, d, n; float eps; } pc;
#include "reduce.glsl"

void main() {
  uint h = gl_WorkGroupID.x, i = gl_LocalInvocationID.x;  // WG >= d (checked at load)
  bool live = i < pc.d;
  uint c = h * pc.d + i;
  float mix = mixc[h], sc = vscale[h];
  float prev = live ? w_prev[c] : 0.0;
  for (uint r = 0u; r < pc.n; ++r) {
    float cur = live ? w[r * pc.C + c] : 0.0;
    int j = int(step.pos0) - 1 + int(r);
    if (j >= 0) {  // uniform: the first token's value waits for the second token
      float v = (1.0 - mix) * cur + mix * prev;
      float norm = sqrt(wg_sum(v * v)) + pc.eps;
      if (live) vcache[uint(j) * pc.C + c] = sc * (v / norm);
    }
    prev = cur;
  }
  if (live) w_prev[c] = prev;
}
