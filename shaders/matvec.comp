#version 450
// y[r, col0 + m] (+)= out_scale * (scale[m] * sum_k W[m, k] x[r, k] + bias[m]) for up to RT token
// rows per workgroup (prefill reuses each weight row RT times). One subgroup per output row;
// fp32 accumulation whatever the weight type. Flag 4 applies LayerNorm to x on the fly (pre-LN
// blocks): each workgroup computes its rows' mean and variance (two passes, as layernorm.comp),
// which saves a dispatch and a barrier per projection.
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { uint w_raw[]; };
layout(std430, binding = 2) readonly buffer S { float w_scale[]; };
layout(std430, binding = 3) readonly buffer B { float bias[]; };
layout(std430, binding = 4) buffer Y { float y[]; };
layout(std430, binding = 5) readonly buffer LW { float ln_w[]; };
layout(std430, binding = 6) readonly buffer LB { float ln_b[]; };
layout(push_constant) uniform P {
  uint K, M, n, x_stride, x_offset, y_stride, y_offset, flags;  // 1 bias, 2 accumulate, 4 LN, 8 LN weight, 16 LN bias
  float out_scale;
  float ln_eps;
} pc;
#include "weights.glsl"
#include "reduce.glsl"
const uint RT = 4u;
shared vec2 row_stats[RT];  // LayerNorm mean, 1/sqrt(var + eps)

void main() {
  uint m = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID;
  uint r0 = gl_WorkGroupID.y * RT;
  bool ln = (pc.flags & 4u) != 0u;
  if (ln) {  // uniform: every thread takes part in the reductions
    uint tid = gl_LocalInvocationID.x;
    for (uint r = 0u; r < RT; ++r) {
      if (r0 + r >= pc.n) break;
      uint b = pc.x_offset + (r0 + r) * pc.x_stride;
      float s = 0.0;
      for (uint k = tid; k < pc.K; k += WG) s += x[b + k];
      float mean = wg_sum(s) / float(pc.K);
      float q = 0.0;
      for (uint k = tid; k < pc.K; k += WG) { float dv = x[b + k] - mean; q += dv * dv; }
      float rstd = inversesqrt(wg_sum(q) / float(pc.K) + pc.ln_eps);
      if (tid == 0u) row_stats[r] = vec2(mean, rstd);
    }
    barrier();
  }
  if (m >= pc.M) return;  // uniform per subgroup
  float acc[RT];
  for (uint r = 0u; r < RT; ++r) acc[r] = 0.0;
  uint units = pc.K / 4u;
  for (uint u = gl_SubgroupInvocationID; u < units; u += gl_SubgroupSize) {
    vec4 w = load_w4(m, u, pc.K);
    vec4 g = vec4(1.0), bb = vec4(0.0);
    if (ln) {
      uint k = 4u * u;
      if ((pc.flags & 8u) != 0u) g = vec4(ln_w[k], ln_w[k + 1u], ln_w[k + 2u], ln_w[k + 3u]);
      if ((pc.flags & 16u) != 0u) bb = vec4(ln_b[k], ln_b[k + 1u], ln_b[k + 2u], ln_b[k + 3u]);
    }
    for (uint r = 0u; r < RT; ++r) {
      if (r0 + r < pc.n) {
        uint b = pc.x_offset + (r0 + r) * pc.x_stride + 4u * u;
        vec4 xv = vec4(x[b], x[b + 1u], x[b + 2u], x[b + 3u]);
        if (ln) xv = (xv - row_stats[r].x) * row_stats[r].y * g + bb;
        acc[r] += dot(w, xv);
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
