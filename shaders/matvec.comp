#version 450
// y[r, col0 + m] (+)= out_scale * (scale[m] * sum_k W[m, k] x[r, k] + bias[m]) for up to RT token
// rows per workgroup (prefill reuses each weight row RT times). One subgroup per output row;
// fp32 accumulation whatever the weight type.
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { uint w_raw[]; };
layout(std430, binding = 2) readonly buffer S { float w_scale[]; };
layout(std430, binding = 3) readonly buffer B { float bias[]; };
layout(std430, binding = 4) buffer Y { float y[]; };
layout(push_constant) uniform P {
  uint K, M, n, x_stride, x_offset, y_stride, y_offset, flags;  // flags: 1 bias, 2 accumulate
  float out_scale;
} pc;
#include "weights.glsl"
const uint RT = 4u;

void main() {
  uint m = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID;
  uint r0 = gl_WorkGroupID.y * RT;
  if (m >= pc.M) return;  // uniform per subgroup
  float acc[RT];
  for (uint r = 0u; r < RT; ++r) acc[r] = 0.0;
  uint units = pc.K / 4u;
  for (uint u = gl_SubgroupInvocationID; u < units; u += gl_SubgroupSize) {
    vec4 w = load_w4(m, u, pc.K);
    for (uint r = 0u; r < RT; ++r) {
      if (r0 + r < pc.n) {
        uint b = pc.x_offset + (r0 + r) * pc.x_stride + 4u * u;
        acc[r] += dot(w, vec4(x[b], x[b + 1u], x[b + 2u], x[b + 3u]));
      }
    }
  }
  float row_scale = (WTYPE == 2u) ? w_scale[m] : 1.0;
  float b = ((pc.flags & 1u) != 0u) ? bias[m] : 0.0;
  for (uint r = 0u; r < RT; ++r) {
    float s = subgroupAdd(acc[r]);
    if (subgroupElect() && r0 + r < pc.n) {
      uint o = pc.y_offset + (r0 + r) * pc.y_stride + m;
      float v = (s * row_scale + b) * pc.out_scale;
      y[o] = ((pc.flags & 2u) != 0u) ? y[o] + v : v;
    }
  }
}
