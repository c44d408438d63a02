#version 450
// Prompt chunks: the same product as matvec.comp for many token rows at once,
//   y[r, m] (+)= out_scale * (scale[m] * sum_k W[m, k] x'[r, k] + bias[m]),
// as a tiled matrix product. A workgroup owns a tile of BM token rows x BN outputs; K is walked
// in slices of BK = 16: each slice of x' (LayerNorm applied while loading, flag 4) and of W (F32,
// F16 or I8 converted to fp32) goes to shared memory once and every thread accumulates a TM x TN
// block from it, so each weight is read from memory once per BM rows instead of once per 4 rows.
// fp32 accumulation whatever the weight type (same tolerance as matvec.comp).
// Thread (tx, ty) of the 16 x (WG / 16) grid owns outputs n0 + tx + 16 j (j < TN) and rows
// r0 + ty + TY i (i < TM): neighbouring threads read neighbouring shared words and write
// neighbouring outputs. The host picks WG and TM within the device's invocation and shared-memory
// limits (ops_matmul.cpp).
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };  // x_offset, x_stride % 4 == 0 (host)
layout(std430, binding = 1) readonly buffer W { uint w_raw[]; };
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
layout(constant_id = 2) const uint KC = 4;  // K, the row length (% 4 == 0)
layout(constant_id = 3) const uint TM = 4;  // token rows per thread
const uint TN = 4u;                         // outputs per thread
const uint TX = 16u;
const uint TY = WG / TX;
const uint BM = TY * TM;
const uint BN = TX * TN;
const uint BK = 16u;
const uint K4 = KC / 4u;
shared float xs[BK][BM + 1u];
shared float ws[BK][BN + 1u];
#include "tile_layernorm.glsl"

void main() {
  const uint tid = gl_LocalInvocationID.x, tx = tid % TX, ty = tid / TX;
  const uint n0 = gl_WorkGroupID.x * BN, r0 = gl_WorkGroupID.y * BM;
  const bool ln = (pc.flags & 4u) != 0u;
  if (ln) tile_ln_statistics(r0);
  float acc[TM][TN];
  for (uint i = 0u; i < TM; ++i)
    for (uint j = 0u; j < TN; ++j) acc[i][j] = 0.0;
  for (uint k0 = 0u; k0 < K4; k0 += BK / 4u) {
    // x' slice: BM rows x BK columns, one vec4 per (row, quarter).
    for (uint e = tid; e < BM * (BK / 4u); e += WG) {
      uint rr = e / (BK / 4u), q = e % (BK / 4u), k4 = k0 + q;
      vec4 v = vec4(0.0);
      if (r0 + rr < pc.n && k4 < K4) {
        v = x4[(pc.x_offset + (r0 + rr) * pc.x_stride) / 4u + k4];
        if (ln) {
          vec4 g = ((pc.flags & 8u) != 0u) ? ln_w4[k4] : vec4(1.0);
          vec4 bb = ((pc.flags & 16u) != 0u) ? ln_b4[k4] : vec4(0.0);
          v = (v - ln_stats[rr].x) * ln_stats[rr].y * g + bb;
        }
      }
      for (uint c = 0u; c < 4u; ++c) xs[4u * q + c][rr] = v[c];
    }
    // W slice: BN outputs x BK columns.
    for (uint e = tid; e < BN * (BK / 4u); e += WG) {
      uint mm = e / (BK / 4u), q = e % (BK / 4u), k4 = k0 + q;
      vec4 v = (n0 + mm < pc.M && k4 < K4) ? load_w4(n0 + mm, k4, KC) : vec4(0.0);
      for (uint c = 0u; c < 4u; ++c) ws[4u * q + c][mm] = v[c];
    }
    barrier();
    for (uint k = 0u; k < BK; ++k) {
      float a[TM], b[TN];
      for (uint i = 0u; i < TM; ++i) a[i] = xs[k][ty + TY * i];
      for (uint j = 0u; j < TN; ++j) b[j] = ws[k][tx + TX * j];
      for (uint i = 0u; i < TM; ++i)
        for (uint j = 0u; j < TN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
    barrier();
  }
  for (uint j = 0u; j < TN; ++j) {
    uint m = n0 + tx + TX * j;
    if (m >= pc.M) continue;
    float row_scale = (WTYPE == 2u) ? w_scale[m] : 1.0;
    float b = ((pc.flags & 1u) != 0u) ? bias[m] : 0.0;
    for (uint i = 0u; i < TM; ++i) {
      uint r = r0 + ty + TY * i;
      if (r >= pc.n) continue;
      uint o = pc.y_offset + r * pc.y_stride + m;
      float v = (acc[i][j] * row_scale + b) * pc.out_scale;
      y[o] = ((pc.flags & 2u) != 0u) ? y[o] + v : v;
    }
  }
}
