#version 450
// y[r, col0 + m] (+)= out_scale * (scale[m] * sum_k W[m, k] x'[r, k] + bias[m]) for up to RT token rows
// per subgroup (prefill reuses each weight load RT times); x' = x, or LayerNorm(x) with flag 4 (pre-LN
// blocks, saves a dispatch and a barrier per projection). One subgroup per output row, fp32
// accumulation whatever the weight type.
// Decode (batch 1) is latency-bound: K is specialization constant 2, so each lane's loop has a
// compile-time trip count and unrolls into independent loads that are all in flight at once
// (a 768-wide F16 row: 3 16-byte loads per lane). Weights are read in 16-byte units (4 F32, 8 F16 or
// 16 I8 elements) when a row is a whole number of them (VEC16 = 1, chosen by the host), else in
// 4-element units. The LayerNorm statistics use subgroup reductions only: no shared memory and no
// workgroup barrier, each subgroup rereads its rows from L1 (two passes: mean, then variance).
#include "common.glsl"
layout(constant_id = 2) const uint KC = 4;      // K, the row length
layout(constant_id = 3) const uint VEC16 = 0;   // 1: K * element bytes % 16 == 0
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
const uint RT = 4u;
// Elements per load unit and units per row.
const uint EU = VEC16 == 1u ? (WTYPE == 0u ? 4u : WTYPE == 1u ? 8u : 16u) : 4u;
const uint UNITS = KC / EU;

// Unit u of row m as EU/4 vec4s (unused entries stay 0).
void load_unit(uint m, uint u, out vec4 w[4]) {
  w[0] = w[1] = w[2] = w[3] = vec4(0.0);
  if (VEC16 == 0u) {
    w[0] = load_w4(m, u, KC);
  } else if (WTYPE == 0u) {
    w[0] = uintBitsToFloat(w16[(m * KC) / 4u + u]);
  } else if (WTYPE == 1u) {
    uvec4 p = w16[(m * KC) / 8u + u];
    w[0] = vec4(unpackHalf2x16(p.x), unpackHalf2x16(p.y));
    w[1] = vec4(unpackHalf2x16(p.z), unpackHalf2x16(p.w));
  } else {
    uvec4 p = w16[(m * KC) / 16u + u];
    for (uint i = 0u; i < 4u; ++i) {
      int q = int(p[i]);
      w[i] = vec4(bitfieldExtract(q, 0, 8), bitfieldExtract(q, 8, 8), bitfieldExtract(q, 16, 8),
                  bitfieldExtract(q, 24, 8));
    }
  }
}

void main() {
  uint m = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID;
  uint r0 = gl_WorkGroupID.y * RT;
  if (m >= pc.M) return;  // uniform per subgroup; nothing below synchronises the workgroup
  const uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize, K4 = KC / 4u;
  bool ln = (pc.flags & 4u) != 0u;
  float mean[RT], rstd[RT];
  for (uint r = 0u; r < RT; ++r) { mean[r] = 0.0; rstd[r] = 1.0; }
  if (ln) {
    for (uint r = 0u; r < RT; ++r) {
      if (r0 + r >= pc.n) break;  // uniform
      uint b4 = (pc.x_offset + (r0 + r) * pc.x_stride) / 4u;
      vec4 s = vec4(0.0);
      for (uint k = lane; k < K4; k += S) s += x4[b4 + k];
      float mu = subgroupAdd(s.x + s.y + s.z + s.w) / float(KC);
      vec4 q = vec4(0.0);
      for (uint k = lane; k < K4; k += S) { vec4 dv = x4[b4 + k] - mu; q += dv * dv; }
      mean[r] = mu;
      rstd[r] = inversesqrt(subgroupAdd(q.x + q.y + q.z + q.w) / float(KC) + pc.ln_eps);
    }
  }
  float acc[RT];
  for (uint r = 0u; r < RT; ++r) acc[r] = 0.0;
  for (uint u = lane; u < UNITS; u += S) {
    vec4 w[4];
    load_unit(m, u, w);
    for (uint i = 0u; i < EU / 4u; ++i) {
      uint k4 = u * (EU / 4u) + i;
      vec4 g = vec4(1.0), bb = vec4(0.0);
      if (ln) {
        if ((pc.flags & 8u) != 0u) g = ln_w4[k4];
        if ((pc.flags & 16u) != 0u) bb = ln_b4[k4];
      }
      for (uint r = 0u; r < RT; ++r) {
        if (r0 + r < pc.n) {
          vec4 xv = x4[(pc.x_offset + (r0 + r) * pc.x_stride) / 4u + k4];
          if (ln) xv = (xv - mean[r]) * rstd[r] * g + bb;
          acc[r] += dot(w[i], xv);
        }
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
