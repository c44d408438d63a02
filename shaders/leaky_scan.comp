#version 450
// Leaky average over the fed rows, parallel over channels: s_t = a s_{t-1} + (1 - a) u_t,
// written in place over u; the carried state is read and updated (decode = prefill with n = 1).
#include "common.glsl"
layout(std430, binding = 0) buffer U { float u[]; };
layout(std430, binding = 1) buffer State { float state[]; };
layout(std430, binding = 2) readonly buffer Decay { float decay[]; };
layout(push_constant) uniform P { uint C, d, n; } pc;

void main() {
  uint c = gl_GlobalInvocationID.x;
  if (c >= pc.C) return;
  float a = decay[c / pc.d], s = state[c];
  for (uint r = 0u; r < pc.n; ++r) {
    s = a * s + (1.0 - a) * u[r * pc.C + c];
    u[r * pc.C + c] = s;
  }
  state[c] = s;
}
