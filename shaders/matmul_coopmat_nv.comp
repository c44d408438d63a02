#version 450
// requires-glsl-feature: cooperative_matrix_nv
// matmul.comp on the matrix units (GL_NV_cooperative_matrix, 16 x 8 x 16 fp16 products with fp32
// accumulation, the shape NVIDIA devices list): the same y, for F16 and I8 weights only (both
// exact in fp16; F32 weights keep the portable kernel). x' (LayerNorm applied while loading) is
// rounded to fp16 in shared memory: each product term gains a relative error <= 2^-11, so
// |y - exact| <= 2^-11 * sum_k |W[m, k] x'[r, k]| plus the fp32 accumulation (the tolerance the
// tests state, docs/numerics.md). A workgroup of 4 subgroups owns BM token rows x 64 outputs and
// walks K in slices of BK, loading the next slice into registers while the matrix units work on the
// current one (one shared stage: a second would not fit next to the accumulator staging in 48 KiB).
// Each subgroup owns a 32-row block of the tile and BN / (4 / (BM / 32)) outputs (2 x NB
// accumulators). BM = 32 doubles the workgroups of a chunk whose 64-row tiles would leave most of a
// large GPU idle; BK = 64 halves the barriers where shared memory allows. The accumulators go
// through shared memory for the epilogue (row scale, bias, out_scale, accumulate), which is the same
// as matmul.comp's. The host dispatches it only where the device lists the shape, has a 32-lane
// subgroup and enough shared memory, and picks BM and BK (ops_matmul.cpp).
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };
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
layout(constant_id = 2) const uint KC = 4;
layout(constant_id = 3) const uint BM = 64;  // token rows per workgroup: 32 or 64
layout(constant_id = 4) const uint BK = 32;  // K slice: 32 or 64
const uint BN = 64u;
const uint SGC = 4u / (BM / 32u);  // subgroups across the outputs
const uint NB = BN / SGC / 8u;     // 8-wide accumulators per subgroup row block: 2 or 4
const uint K4 = KC / 4u;
const uint XS4 = BK / 4u + 2u;  // shared row stride in 4-half units (uvec2; 16-byte aligned rows, offset banks)
const uint CS = BN + 4u;        // accumulator staging stride in floats
shared uvec2 xs4[BM * XS4];  // fp16 pairs (packFloat2x16): one 8-byte store per 4 elements
shared uvec2 ws4[BN * XS4];
shared float cs[BM * CS];
shared vec2 ln_stats[BM];

// Mean and 1/sqrt(var + eps) of the tile's token rows: one subgroup per row, each lane holding its
// share of the row in registers (one read of x, two passes over the values as matvec_core.glsl).
const uint RU = (K4 + 31u) / 32u;  // vec4 units of a row per lane
const uint kMaxRowUnits = 8u;      // rows up to 1024 channels stay in registers
void ln_statistics(uint r0) {
  const uint lane = gl_SubgroupInvocationID;
  for (uint rr = gl_SubgroupID; rr < BM; rr += WG / 32u) {
    const bool live = r0 + rr < pc.n;
    const uint b4 = live ? (pc.x_offset + (r0 + rr) * pc.x_stride) / 4u : 0u;
    vec4 v[kMaxRowUnits];
    float s = 0.0;
    for (uint i = 0u; i < kMaxRowUnits; ++i) {
      const uint k = lane + 32u * i;
      v[i] = (RU <= kMaxRowUnits && i < RU && live && k < K4) ? x4[b4 + k] : vec4(0.0);
      s += v[i].x + v[i].y + v[i].z + v[i].w;
    }
    if (RU > kMaxRowUnits && live)
      for (uint k = lane; k < K4; k += 32u) { vec4 u = x4[b4 + k]; s += u.x + u.y + u.z + u.w; }
    const float mu = subgroupAdd(s) / float(KC);
    float q = 0.0;
    for (uint i = 0u; i < kMaxRowUnits; ++i) {
      const uint k = lane + 32u * i;
      if (RU <= kMaxRowUnits && i < RU && k < K4) { vec4 dv = v[i] - mu; q += dot(dv, dv); }
    }
    if (RU > kMaxRowUnits && live)
      for (uint k = lane; k < K4; k += 32u) { vec4 dv = x4[b4 + k] - mu; q += dot(dv, dv); }
    const float var = subgroupAdd(q);
    if (lane == 0u) ln_stats[rr] = vec2(mu, inversesqrt(var / float(KC) + pc.ln_eps));
  }
  barrier();
}

// One K slice of the tile in registers: XU vec4 of x' rows and WU vec4 of weight rows per thread.
const uint XU = BM * (BK / 4u) / WG, WU = BN * (BK / 4u) / WG;
const uint kMaxUnits = 8u;  // BM, BK <= 64 and WG = 128 (host)
vec4 x_next[kMaxUnits], w_next[kMaxUnits];

void fetch_slice(uint k0, uint r0, uint n0, bool ln) {
  const uint tid = gl_LocalInvocationID.x;
  for (uint i = 0u; i < XU; ++i) {
    uint e = tid + i * WG, rr = e / (BK / 4u), k4 = k0 + e % (BK / 4u);
    vec4 v = vec4(0.0);
    if (r0 + rr < pc.n && k4 < K4) {
      v = x4[(pc.x_offset + (r0 + rr) * pc.x_stride) / 4u + k4];
      if (ln) {
        vec4 g = ((pc.flags & 8u) != 0u) ? ln_w4[k4] : vec4(1.0);
        vec4 bb = ((pc.flags & 16u) != 0u) ? ln_b4[k4] : vec4(0.0);
        v = (v - ln_stats[rr].x) * ln_stats[rr].y * g + bb;
      }
    }
    x_next[i] = v;
  }
  for (uint i = 0u; i < WU; ++i) {
    uint e = tid + i * WG, mm = e / (BK / 4u), k4 = k0 + e % (BK / 4u);
    w_next[i] = (n0 + mm < pc.M && k4 < K4) ? load_w4(n0 + mm, k4, KC) : vec4(0.0);
  }
}

uvec2 halves4(vec4 v) { return uvec2(packFloat2x16(f16vec2(v.xy)), packFloat2x16(f16vec2(v.zw))); }

void stash_slice() {
  const uint tid = gl_LocalInvocationID.x;
  for (uint i = 0u; i < XU; ++i) {
    uint e = tid + i * WG;
    xs4[(e / (BK / 4u)) * XS4 + e % (BK / 4u)] = halves4(x_next[i]);
  }
  for (uint i = 0u; i < WU; ++i) {
    uint e = tid + i * WG;
    ws4[(e / (BK / 4u)) * XS4 + e % (BK / 4u)] = halves4(w_next[i]);
  }
}

void main() {
  const uint tid = gl_LocalInvocationID.x, sg = gl_SubgroupID;
  const uint n0 = gl_WorkGroupID.x * BN, r0 = gl_WorkGroupID.y * BM;
  const uint row_base = (sg / SGC) * 32u, col_base = (sg % SGC) * (8u * NB);
  const bool ln = (pc.flags & 4u) != 0u;
  if (ln) ln_statistics(r0);
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> acc[2][NB];
  for (uint i = 0u; i < 2u; ++i)
    for (uint j = 0u; j < NB; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);
  fetch_slice(0u, r0, n0, ln);
  stash_slice();
  barrier();
  for (uint k0 = 0u; k0 < K4; k0 += BK / 4u) {
    const bool more = k0 + BK / 4u < K4;
    // The next slice's global loads are in flight while the matrix units work on this one.
    if (more) fetch_slice(k0 + BK / 4u, r0, n0, ln);
    for (uint kk = 0u; kk < BK; kk += 16u) {
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a[2];
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> b[NB];
      for (uint i = 0u; i < 2u; ++i) coopMatLoadNV(a[i], xs4, (row_base + 16u * i) * XS4 + kk / 4u, XS4, false);
      // W rows are the columns of B (k x outputs): column-major with stride XS.
      for (uint j = 0u; j < NB; ++j) coopMatLoadNV(b[j], ws4, (col_base + 8u * j) * XS4 + kk / 4u, XS4, true);
      for (uint i = 0u; i < 2u; ++i)
        for (uint j = 0u; j < NB; ++j) acc[i][j] = coopMatMulAddNV(a[i], b[j], acc[i][j]);
    }
    barrier();
    if (more) {
      stash_slice();
      barrier();
    }
  }
  for (uint i = 0u; i < 2u; ++i)
    for (uint j = 0u; j < NB; ++j)
      coopMatStoreNV(acc[i][j], cs, (row_base + 16u * i) * CS + col_base + 8u * j, CS, false);
  barrier();
  for (uint e = tid; e < BM * BN; e += WG) {
    uint rr = e / BN, mm = e % BN, r = r0 + rr, m = n0 + mm;
    if (r >= pc.n || m >= pc.M) continue;
    float row_scale = (WTYPE == 2u) ? w_scale[m] : 1.0;
    float b = ((pc.flags & 1u) != 0u) ? bias[m] : 0.0;
    uint o = pc.y_offset + r * pc.y_stride + m;
    float v = (cs[rr * CS + mm] * row_scale + b) * pc.out_scale;
    y[o] = ((pc.flags & 2u) != 0u) ? y[o] + v : v;
  }
}
