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
layout(constant_id = 4) const uint MR = 1;  // weight rows per subgroup at n = 1 (host: <= MAX_MR)
const uint MAX_MR = 4u;  // a compile-time bound: loops over acc[] unroll into registers

// n = 1: rows m0 .. m0 + MR - 1 of this subgroup. One row (the square projections): its first PF
// units per lane are loaded before the LayerNorm statistics (matvec_core.glsl decode_dot). Tall
// matrices (MR > 1): each lane forms x' of its units once and loads the MR rows' units together
// (independent loads, all in flight); loading them before the statistics as well made the 50k-row
// output layer slower on the H100 (39 -> 46 us), so they follow the statistics.
void store_decode_row(uint m, float v) {  // v: the full dot product, row scale applied
  if (m < pc.M && subgroupElect()) {
    v = (v + (((pc.flags & 1u) != 0u) ? bias[m] : 0.0)) * pc.out_scale;
    uint o = pc.y_offset + m;
    y[o] = ((pc.flags & 2u) != 0u) ? y[o] + v : v;
  }
}

// The workgroup's number among the row groups: the host folds more groups than one grid dimension
// takes (maxComputeWorkGroupCount) into z; groups past the last row return early.
uint row_group() { return gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

void decode_rows() {
  const uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
  uint m0 = (row_group() * gl_NumSubgroups + gl_SubgroupID) * MR;
  float mean[RT], rstd[RT];
  if (MR == 1u) {
    uvec4 pre[PF];
    prefetch_row(m0, m0 < pc.M, pre);
    ln_statistics(0u, mean, rstd);  // n = 1: subgroup reductions only, no workgroup barrier
    if (m0 >= pc.M) return;         // uniform per subgroup
    store_decode_row(m0, decode_dot(m0, pre, mean[0], rstd[0]));
    return;
  }
  ln_statistics(0u, mean, rstd);
  if (m0 >= pc.M) return;
  float acc[MAX_MR];
  [[unroll]] for (uint r = 0u; r < MAX_MR; ++r) acc[r] = 0.0;
  for (uint u = lane; u < UNITS; u += S) {
    vec4 xs[4];
    decode_x_unit(u, mean[0], rstd[0], xs);
    [[unroll]] for (uint r = 0u; r < MAX_MR; ++r) {
      if (r < MR && m0 + r < pc.M) {
        vec4 w[4];
        load_unit(m0 + r, u, w);
        add_unit_dot(acc[r], w, xs);
      }
    }
  }
  [[unroll]] for (uint r = 0u; r < MAX_MR; ++r) {
    if (r >= MR) continue;
    float v = subgroupAdd(acc[r]);
    if (WTYPE == 2u && m0 + r < pc.M) v *= w_scale[m0 + r];
    store_decode_row(m0 + r, v);
  }
}

void main() {
  if (pc.n == 1u) {  // uniform
    decode_rows();
    return;
  }
  uint m = row_group() * gl_NumSubgroups + gl_SubgroupID;
  uint r0 = gl_WorkGroupID.y * RT;
  float mean[RT], rstd[RT], acc[RT];
  ln_statistics(r0, mean, rstd);  // the whole workgroup
  if (m >= pc.M) return;  // uniform per subgroup; nothing below synchronises the workgroup
  matvec_dots(m, r0, mean, rstd, acc);
  float b = ((pc.flags & 1u) != 0u) ? bias[m] : 0.0;
  [[unroll]] for (uint r = 0u; r < RT; ++r) {
    if (subgroupElect() && r0 + r < pc.n) {
      uint o = pc.y_offset + (r0 + r) * pc.y_stride + m;
      float v = (acc[r] + b) * pc.out_scale;
      y[o] = ((pc.flags & 2u) != 0u) ? y[o] + v : v;
    }
  }
}
