#version 450
// The context memory's keys and values of the fed rows, in one dispatch (they are independent):
// workgroups [0, HK) finish the keys of head h, [HK, HK + HV) the values of head h - HK; one
// workgroup per head, rows in order (each thread owns its channel, so state read-then-write needs
// no barrier).
// Keys: leaky average + unit normalisation, s_t = a s_{t-1} + (1 - a) u_t, out = scale[h] · s_t /
//   (||s_t|| + eps); flag 1 multiplies by head_scale, flag 2 writes rows pos0 + r (the key cache).
// Values (peek/lag): v_j = vscale[h] · ṽ_j / (||ṽ_j|| + eps), ṽ_j = (1 - c_h) w_{j+1} + c_h w_j for
//   j = pos0 - 1 + r; w_prev holds w_{pos0-1} and receives this forward's last row.
// u and w rows are [n, *_stride] from element *_off (the fused K|V projection writes [n, 2C]).
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer U { float u[]; };
layout(std430, binding = 2) buffer KSt { float kstate[]; };
layout(std430, binding = 3) readonly buffer Decay { float decay[]; };
layout(std430, binding = 4) readonly buffer Sc { float head_scale[]; };
layout(std430, binding = 5) writeonly buffer KOut { float kout[]; };
layout(std430, binding = 6) readonly buffer Wr { float w[]; };
layout(std430, binding = 7) buffer Wp { float w_prev[]; };
layout(std430, binding = 8) readonly buffer Mix { float mixc[]; };
layout(std430, binding = 9) readonly buffer Vs { float vscale[]; };
layout(std430, binding = 10) writeonly buffer Vc { float vcache[]; };
layout(push_constant) uniform P {
  uint C, d, n, flags, u_off, u_stride, w_off, w_stride, HK;
  float eps;
} pc;
#include "reduce.glsl"

void finish_keys(uint h, uint i, bool live) {
  uint c = h * pc.d + i;
  float a = decay[h], s = live ? kstate[c] : 0.0;
  float sc = ((pc.flags & 1u) != 0u) ? head_scale[h] : 1.0;
  uint row0 = ((pc.flags & 2u) != 0u) ? step.pos0 : 0u;
  for (uint r = 0u; r < pc.n; ++r) {
    if (live) s = a * s + (1.0 - a) * u[pc.u_off + r * pc.u_stride + c];
    float norm = sqrt(wg_sum(live ? s * s : 0.0)) + pc.eps;
    if (live) kout[(row0 + r) * pc.C + c] = sc * (s / norm);
  }
  if (live) kstate[c] = s;
}

void finish_values(uint h, uint i, bool live) {
  uint c = h * pc.d + i;
  float mix = mixc[h], sc = vscale[h];
  float prev = live ? w_prev[c] : 0.0;
  for (uint r = 0u; r < pc.n; ++r) {
    float cur = live ? w[pc.w_off + r * pc.w_stride + c] : 0.0;
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

void main() {
  uint g = gl_WorkGroupID.x, i = gl_LocalInvocationID.x;  // WG >= d (checked at load)
  bool live = i < pc.d;
  if (g < pc.HK) finish_keys(g, i, live);  // uniform per workgroup
  else finish_values(g - pc.HK, i, live);
}
