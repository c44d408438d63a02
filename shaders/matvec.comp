#version 450
// y[r, col0 + m] (+)= out_scale * (scale[m] * sum_k W[m, k] x'[r, k] + bias[m]) for up to RT token rows
// per subgroup (prefill reuses each weight load RT times); x' = x, or LayerNorm(x) with flag 4 (pre-LN
// blocks, saves a dispatch and a barrier per projection). One subgroup per output row, fp32
// accumulation whatever the weight type (matvec_core.glsl).
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };  // x_offset, x_stride % 4 == 0 (host)
layout(std430, binding = 1) readonly buffer W { uint w_raw[]; };
layout(std430, binding = 1) readonly buffer W16 { uvec4 w16[]; };  // the same buffer, 16-byte view
layout(std430, binding = 2) readonly buffer S { float w_scale[]; };
layout(std430, binding = 3) readonly buffer B { float bias[]; };
layout(std430, binding = 4) buffer Y { float y[]; };
layout(std430, binding = 5) readonly buffer LW { vec4 ln_w4[]; };
layout(std430, binding = 6) readonly buffer LB { vec4 ln_b4[]; };
layout(push_constant) uniform P {
  uint M, n, x_stride, x_offset, y_stride, y_offset, flags;  // 1 bias, 2 accumulate, 4 LN, 8 LN weight, 16 LN bias
  float out_scale;
  float ln_eps;
} pc;
#include "weights.glsl"
#include "matvec_core.glsl"

void main() {
  uint m = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID;
  uint r0 = gl_WorkGroupID.y * RT;
  float mean[RT], rstd[RT], acc[RT];
  ln_statistics(r0, mean, rstd);  // the whole workgroup
  if (m >= pc.M) return;  // uniform per subgroup; nothing below synchronises the workgroup
  matvec_dots(m, r0, mean, rstd, acc);
  float b = ((pc.flags & 1u) != 0u) ? bias[m] : 0.0;
  for (uint r = 0u; r < RT; ++r) {
    if (subgroupElect() && r0 + r < pc.n) {
      uint o = pc.y_offset + (r0 + r) * pc.y_stride + m;
      float v = (acc[r] + b) * pc.out_scale;
      y[o] = ((pc.flags & 2u) != 0u) ? y[o] + v : v;
    }
  }
}
