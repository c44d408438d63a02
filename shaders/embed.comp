#version 450
// Embedding gather: out[r, :] = E[token[r], :] (dequantised for I8).
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Tokens { int tokens[]; };
layout(std430, binding = 1) readonly buffer W { uint w_raw[]; };
layout(std430, binding = 2) readonly buffer S { float w_scale[]; };
layout(std430, binding = 3) writeonly buffer Out { float outv[]; };
layout(push_constant) uniform P { uint C; uint n; } pc;
#include "weights.glsl"

void main() {
  uint unit = gl_GlobalInvocationID.x, r = gl_WorkGroupID.y;
  if (unit >= pc.C / 4u || r >= pc.n) return;
  uint row = uint(tokens[r]);
  vec4 v = load_w4(row, unit, pc.C);
  if (WTYPE == 2u) v *= w_scale[row];
  uint o = r * pc.C + 4u * unit;
  outv[o] = v.x; outv[o + 1u] = v.y; outv[o + 2u] = v.z; outv[o + 3u] = v.w;
}
