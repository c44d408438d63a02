#version 450
// requires-glsl-feature: cooperative_matrix_nv
// matmul.comp on the matrix units (GL_NV_cooperative_matrix, 16 x 8 x 16 fp16 products with fp32
// accumulation, the shape NVIDIA devices list): the same y, for F16 and I8 weights only (both
// exact in fp16; F32 weights keep the portable kernel). x' (LayerNorm applied while loading) is
// rounded to fp16 in shared memory: each product term gains a relative error <= 2^-11, so
// |y - exact| <= 2^-11 * sum_k |W[m, k] x'[r, k]| plus the fp32 accumulation (the tolerance the
// tests state, docs/numerics.md).
// A workgroup owns BM token rows x BN outputs, one subgroup per 32 x 32 block of them (2 x 4
// accumulators), and walks K in slices of 32 through two shared stages: while the matrix units work
// on one stage, the next slice's global loads are in flight and then land in the other stage, so
// each slice costs one barrier. Every loop that indexes the accumulators or the staged registers has
// a compile-time trip count and is unrolled: indexed by a specialization constant they would stay
// arrays in memory rather than registers. The epilogue (row scale, bias, out_scale, accumulate:
// matmul.comp's) goes through a 16 x 8 staging block per subgroup, so it needs no tile-sized staging
// and no workgroup barrier. The host dispatches it only where the device lists the shape, has a
// 32-lane subgroup and enough shared memory, and picks BM and BN (ops_matmul.cpp).
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require
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
layout(constant_id = 3) const uint BM = 64;  // token rows per workgroup: a multiple of 32
layout(constant_id = 4) const uint BN = 128; // outputs per workgroup: a multiple of 32; WG = BM * BN / 32
const uint BK = 32u;
const uint SUBGROUPS = WG / 32u;
const uint SGC = BN / 32u;  // subgroups across the outputs
const uint NB = 4u;         // 8-wide accumulators per 16-row half of a subgroup's block
const uint K4 = KC / 4u;
const uint XS4 = BK / 4u + 2u;  // shared row stride in 4-half units (uvec2): 80-byte rows, 16-byte aligned
shared uvec2 xs4[2 * BM * XS4];  // fp16 pairs (packFloat2x16), two stages
shared uvec2 ws4[2 * BN * XS4];
shared float cs[SUBGROUPS * 16u * 8u];  // one 16 x 8 epilogue block per subgroup
shared vec2 ln_stats[BM];

// Mean and 1/sqrt(var + eps) of the tile's token rows: one subgroup per row, each lane holding its
// share of the row in registers (one read of x, two passes over the values as matvec_core.glsl).
const uint RU = (K4 + 31u) / 32u;  // vec4 units of a row per lane
const uint kMaxRowUnits = 8u;      // rows up to 1024 channels stay in registers
void ln_statistics(uint r0) {
  const uint lane = gl_SubgroupInvocationID;
  for (uint rr = gl_SubgroupID; rr < BM; rr += SUBGROUPS) {
    const bool live = r0 + rr < pc.n;
    const uint b4 = live ? (pc.x_offset + (r0 + rr) * pc.x_stride) / 4u : 0u;
    vec4 v[kMaxRowUnits];
    float s = 0.0;
    [[unroll]] for (uint i = 0u; i < kMaxRowUnits; ++i) {
      const uint k = lane + 32u * i;
      v[i] = (RU <= kMaxRowUnits && i < RU && live && k < K4) ? x4[b4 + k] : vec4(0.0);
      s += v[i].x + v[i].y + v[i].z + v[i].w;
    }
    if (RU > kMaxRowUnits && live)
      for (uint k = lane; k < K4; k += 32u) { vec4 u = x4[b4 + k]; s += u.x + u.y + u.z + u.w; }
    const float mu = subgroupAdd(s) / float(KC);
    float q = 0.0;
    [[unroll]] for (uint i = 0u; i < kMaxRowUnits; ++i) {
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

uvec2 halves4(vec4 v) { return uvec2(packFloat2x16(f16vec2(v.xy)), packFloat2x16(f16vec2(v.zw))); }

// Four weights of row `row` from unit `unit4` as fp16 pairs: F16 rows are copied as stored.
uvec2 weight_halves4(uint row, uint unit4) {
  if (WTYPE == 1u) {
    const uint b = (row * KC) / 2u + 2u * unit4;
    return uvec2(w_raw[b], w_raw[b + 1u]);
  }
  return halves4(load_w4(row, unit4, KC));
}

// One K slice of the tile in registers, as fp16 pairs: XU units of x' rows, WU of weight rows per thread.
const uint XU = BM * (BK / 4u) / WG, WU = BN * (BK / 4u) / WG;
const uint kMaxUnits = 8u;  // BM * 8 / WG and BN * 8 / WG <= 8 for every tile of the host
uvec2 x_next[kMaxUnits], w_next[kMaxUnits];

void fetch_slice(uint k0, uint r0, uint n0, bool ln) {
  const uint tid = gl_LocalInvocationID.x;
  [[unroll]] for (uint i = 0u; i < kMaxUnits; ++i) {
    const uint e = tid + i * WG, rr = e / (BK / 4u), k4 = k0 + e % (BK / 4u);
    vec4 v = vec4(0.0);
    if (i < XU && r0 + rr < pc.n && k4 < K4) {
      v = x4[(pc.x_offset + (r0 + rr) * pc.x_stride) / 4u + k4];
      if (ln) {
        vec4 g = ((pc.flags & 8u) != 0u) ? ln_w4[k4] : vec4(1.0);
        vec4 bb = ((pc.flags & 16u) != 0u) ? ln_b4[k4] : vec4(0.0);
        v = (v - ln_stats[rr].x) * ln_stats[rr].y * g + bb;
      }
    }
    x_next[i] = halves4(v);
  }
  [[unroll]] for (uint i = 0u; i < kMaxUnits; ++i) {
    const uint e = tid + i * WG, mm = e / (BK / 4u), k4 = k0 + e % (BK / 4u);
    w_next[i] = (i < WU && n0 + mm < pc.M && k4 < K4) ? weight_halves4(n0 + mm, k4) : uvec2(0u);
  }
}

void stash_slice(uint stage) {
  const uint tid = gl_LocalInvocationID.x;
  [[unroll]] for (uint i = 0u; i < kMaxUnits; ++i) {
    const uint e = tid + i * WG;
    if (i < XU) xs4[(stage * BM + e / (BK / 4u)) * XS4 + e % (BK / 4u)] = x_next[i];
  }
  [[unroll]] for (uint i = 0u; i < kMaxUnits; ++i) {
    const uint e = tid + i * WG;
    if (i < WU) ws4[(stage * BN + e / (BK / 4u)) * XS4 + e % (BK / 4u)] = w_next[i];
  }
}

void main() {
  const uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  const uint n0 = gl_WorkGroupID.x * BN, r0 = gl_WorkGroupID.y * BM;
  const uint row_base = (sg / SGC) * 32u, col_base = (sg % SGC) * 32u;
  const bool ln = (pc.flags & 4u) != 0u;
  if (ln) ln_statistics(r0);
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> acc[2][NB];
  [[unroll]] for (uint i = 0u; i < 2u; ++i)
    [[unroll]] for (uint j = 0u; j < NB; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);
  fetch_slice(0u, r0, n0, ln);
  stash_slice(0u);
  barrier();
  uint stage = 0u;
  for (uint k0 = 0u; k0 < K4; k0 += BK / 4u) {
    const bool more = k0 + BK / 4u < K4;
    if (more) fetch_slice(k0 + BK / 4u, r0, n0, ln);
    [[unroll]] for (uint kk = 0u; kk < BK / 4u; kk += 4u) {  // 16 elements = 4 units
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a[2];
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> b[NB];
      [[unroll]] for (uint i = 0u; i < 2u; ++i)
        coopMatLoadNV(a[i], xs4, (stage * BM + row_base + 16u * i) * XS4 + kk, XS4, false);
      // W rows are the columns of B (k x outputs): column-major with stride XS4.
      [[unroll]] for (uint j = 0u; j < NB; ++j)
        coopMatLoadNV(b[j], ws4, (stage * BN + col_base + 8u * j) * XS4 + kk, XS4, true);
      [[unroll]] for (uint i = 0u; i < 2u; ++i)
        [[unroll]] for (uint j = 0u; j < NB; ++j) acc[i][j] = coopMatMulAddNV(a[i], b[j], acc[i][j]);
    }
    // The other stage was last read before the previous barrier: fill it, then one barrier.
    if (more) stash_slice(stage ^ 1u);
    barrier();
    stage ^= 1u;
  }
  const uint block = sg * 128u;
  [[unroll]] for (uint i = 0u; i < 2u; ++i)
    [[unroll]] for (uint j = 0u; j < NB; ++j) {
      coopMatStoreNV(acc[i][j], cs, block, 8u, false);
      subgroupMemoryBarrierShared();
      subgroupBarrier();
      [[unroll]] for (uint t = 0u; t < 4u; ++t) {
        const uint e = lane + 32u * t, r = r0 + row_base + 16u * i + e / 8u, m = n0 + col_base + 8u * j + e % 8u;
        if (r < pc.n && m < pc.M) {
          const float row_scale = (WTYPE == 2u) ? w_scale[m] : 1.0;
          const float b = ((pc.flags & 1u) != 0u) ? bias[m] : 0.0;
          const uint o = pc.y_offset + r * pc.y_stride + m;
          const float v = (cs[block + e] * row_scale + b) * pc.out_scale;
          y[o] = ((pc.flags & 2u) != 0u) ? y[o] + v : v;
        }
      }
      subgroupBarrier();
    }
}
