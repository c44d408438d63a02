#version 450
// y[r, col0 + m] (+)= out_scale * (scale[m] * sum_k W[m, k] x'[r, k] + bias[m]) for up to RT token rows
// per subgroup (prefill reuses each weight load RT times); x' = x, or LayerNorm(x) with flag 4 (pre-LN
// blocks, saves a dispatch and a barrier per projection). One subgroup per output row, fp32
// accumulation whatever the weight type (matvec_core.glsl). Decode (n = 1) of tall matrices: MR
// weight rows per subgroup (specialization constant 4), so the LayerNorm statistics and each x'
// unit are computed once for MR rows, not once per row (the 50k-row output layer).
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
layout(constant_id = 4) const uint MR = 1;  // weight rows per subgroup; > 1 only for n = 1 (host)

// n = 1: rows m0 .. m0 + MR - 1 of this subgroup. Each lane forms x' of its units once and loads the
// MR rows' units together (independent loads, all in flight).
void decode_rows() {
  const uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
  uint m0 = (gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID) * MR;
  float mean[RT], rstd[RT];
  ln_statistics(0u, mean, rstd);  // n = 1: subgroup reductions only, no workgroup barrier
  if (m0 >= pc.M) return;         // uniform per subgroup
  bool ln = (pc.flags & 4u) != 0u;
  float acc[MR];
  for (uint r = 0u; r < MR; ++r) acc[r] = 0.0;
  for (uint u = lane; u < UNITS; u += S) {
    vec4 xs[4];
    for (uint i = 0u; i < EU / 4u; ++i) {
      uint k4 = u * (EU / 4u) + i;
      vec4 xv = x4[pc.x_offset / 4u + k4];
      if (ln) {
        xv = (xv - mean[0]) * rstd[0];
        if ((pc.flags & 8u) != 0u) xv *= ln_w4[k4];
        if ((pc.flags & 16u) != 0u) xv += ln_b4[k4];
      }
      xs[i] = xv;
    }
    for (uint r = 0u; r < MR; ++r) {
      if (m0 + r < pc.M) {
        vec4 w[4];
        load_unit(m0 + r, u, w);
        for (uint i = 0u; i < EU / 4u; ++i) acc[r] += dot(w[i], xs[i]);
      }
    }
  }
  for (uint r = 0u; r < MR; ++r) {
    uint m = m0 + r;
    float v = subgroupAdd(acc[r]);
    if (m < pc.M && subgroupElect()) {
      v *= (WTYPE == 2u) ? w_scale[m] : 1.0;
      v = (v + (((pc.flags & 1u) != 0u) ? bias[m] : 0.0)) * pc.out_scale;
      uint o = pc.y_offset + m;
      y[o] = ((pc.flags & 2u) != 0u) ? y[o] + v : v;
    }
  }
}

void main() {
  if (MR > 1u) {
    decode_rows();
    return;
  }
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
