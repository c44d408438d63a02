#version 450
// requires-glsl-feature: cooperative_matrix_nv
// attn_prefill_softmax.comp on the matrix units (GL_NV_cooperative_matrix, 16 x 8 x 16 fp16 products
// with fp32 accumulation), for F16 caches with the queries from the key cache (every input already an
// fp16 value: the products are exact, only the fp32 accumulation rounds). One workgroup of 4 subgroups
// per (tile of 64 query rows, head); each subgroup owns 16 rows, keeps their queries in cooperative
// matrices and walks the visible keys once, in tiles of 64, with the online softmax: the weights
// p = exp(beta^2 (c - m)) <= 1 against the row maximum so far (rounded to fp16 for the product with
// the values; the normaliser sums the same rounded weights), the tile's weighted values through shared
// memory into the lanes' fp32 outputs, which are rescaled whenever the maximum grows. The host
// dispatches it only where the device has the shape and 32-lane subgroups, for D a multiple of 16 whose
// tiles fit the shared memory (ops_attention_tiled.cpp).
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
#define KV_CACHE_SPEC_ID 2
#include "kv_cache.glsl"
KV_CACHE_BUFFER(1, readonly, Q)  // F16 cache words; the query rows are cache rows pos0 + row
KV_CACHE_BUFFER(2, readonly, K)
KV_CACHE_BUFFER(3, readonly, V)
layout(std430, binding = 4) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 5) readonly buffer OS { float out_scale[]; };
layout(std430, binding = 6) buffer O { float outv[]; };
layout(push_constant) uniform P {
  uint H, q_stride, flags;  // flags: 1 = query rows are cache rows pos0 + row (required), 2 = accumulate
  uint k_base, k_head_stride, k_key_stride, v_base, v_head_stride, v_key_stride;
  uint mask_offset, nkeys_fixed, row_base, rows, out_stride;
  float scale;
} pc;
#include "attention_common.glsl"
layout(constant_id = 1) const uint D = 64;  // head size, a multiple of 16, <= kMaxD (host)
const uint kMaxD = 64u;
const uint BQ = 64u, BK = 64u, SG_ROWS = 16u;
const uint KS = D + 8u;    // fp16 rows of keys, values, queries: 16-byte aligned, staggered banks
const uint PS = BK + 8u;   // fp16 rows of weights
const uint SS = BK + 4u;   // fp32 rows of cosines (and of the outputs at the end: D <= BK)
const uint DK = D / 16u;   // k-steps of the cosines
const uint NB = BK / 8u;   // 8-key column blocks of a score tile
const uint OB = D / 8u;    // 8-channel column blocks of the outputs
shared float16_t ks[BK * KS];
shared float16_t vs[BK * KS];
shared float16_t ps[BQ * PS];
shared float ss[BQ * SS];

// A tile of keys or values (BK rows of D from row `first` on, clamped to `last`; element base + row *
// stride) travels through registers: fetched one tile ahead, so that its global loads are in flight
// while the matrix units work, then stashed into ks / vs as the cache's halves (exact).
// kMaxUnits 4-half units per thread: BK * D / 4 / WG <= 8 for D <= 64 and the host's WG = 128.
const uint kMaxUnits = 8u;
void fetch_tile(bool values, int first, int last, uint base, uint stride, out uvec2 units[kMaxUnits]) {
  for (uint i = 0u; i < kMaxUnits; ++i) {
    const uint e = gl_LocalInvocationID.x + i * WG, j = e / (D / 4u), c4 = e % (D / 4u);
    const uint row = uint(min(first + int(j), last));
    units[i] = uvec2(0u);
    if (e < BK * (D / 4u))
      units[i] = values ? V_f16x4[(base + row * stride) / 4u + c4] : K_f16x4[(base + row * stride) / 4u + c4];
  }
}

void stash_tile(bool values, uvec2 units[kMaxUnits]) {
  for (uint i = 0u; i < kMaxUnits; ++i) {
    const uint e = gl_LocalInvocationID.x + i * WG, j = e / (D / 4u), c4 = e % (D / 4u);
    if (e >= BK * (D / 4u)) break;
    const f16vec2 lo = unpackFloat2x16(units[i].x), hi = unpackFloat2x16(units[i].y);
    const f16vec4 h = f16vec4(lo, hi);
    if (values) {
      for (uint c = 0u; c < 4u; ++c) vs[j * KS + 4u * c4 + c] = h[c];
    } else {
      for (uint c = 0u; c < 4u; ++c) ks[j * KS + 4u * c4 + c] = h[c];
    }
  }
}

// The cosines of this subgroup's 16 rows with the BK keys in ks, into its rows of ss.
void tile_cosines(uint sg_row, in fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> qa[DK]) {
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> acc[NB];
  for (uint b = 0u; b < NB; ++b) acc[b] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);
  for (uint k = 0u; k < DK; ++k)
    for (uint b = 0u; b < NB; ++b) {
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> kb;
      coopMatLoadNV(kb, ks, (8u * b) * KS + 16u * k, KS, true);  // K^T: keys are its columns
      acc[b] = coopMatMulAddNV(qa[k], kb, acc[b]);
    }
  for (uint b = 0u; b < NB; ++b) coopMatStoreNV(acc[b], ss, sg_row * SS + 8u * b, SS, false);
  subgroupMemoryBarrierShared();
  subgroupBarrier();
}

void main() {
  const uint tid = gl_LocalInvocationID.x, sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  const uint h = gl_WorkGroupID.y;
  const uint tile = gl_NumWorkGroups.x - 1u - gl_WorkGroupID.x, r0 = tile * BQ;  // longest tiles first
  const uint tile_rows = min(BQ, pc.rows - r0);
  const int nk_last = row_keys(r0 + tile_rows - 1u, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  const uint sg_row = sg * SG_ROWS;
  // Lanes 2r and 2r + 1 share row r of the subgroup's 16: keys 2j and 2j + 1 of a tile.
  const uint my_row = sg_row + lane / 2u, par = lane % 2u;
  const int my_nk = my_row < tile_rows ? row_keys(r0 + my_row, pc.row_base, pc.mask_offset, pc.nkeys_fixed) : 0;
  const float beta2 = head_scale[h];

  // The queries (cache rows pos0 + row_base + r0 + r) through ps (D <= BK) into registers.
  const int first_q = int(step.pos0 + pc.row_base + r0);
  [[dont_unroll]] for (uint e = tid; e < BQ * (D / 4u); e += WG) {
    uint r = e / (D / 4u), c4 = e % (D / 4u);
    uint row = uint(first_q + int(min(r, tile_rows - 1u)));
    uvec2 w = Q_f16x4[(row * pc.q_stride + h * D) / 4u + c4];
    vec2 lo = unpackHalf2x16(w.x), hi = unpackHalf2x16(w.y);
    f16vec4 q = f16vec4(lo.x, lo.y, hi.x, hi.y);
    for (uint c = 0u; c < 4u; ++c) ps[r * PS + 4u * c4 + c] = q[c];
  }
  barrier();
  fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> qa[DK];
  for (uint k = 0u; k < DK; ++k) coopMatLoadNV(qa[k], ps, sg_row * PS + 16u * k, PS, false);
  barrier();

  const uint kb = pc.k_base + h * pc.k_head_stride, vb = pc.v_base + h * pc.v_head_stride;
  // One sweep with the online softmax: per tile of keys, the row maximum so far m, the weights
  // p = exp(beta^2 (c - m)) <= 1 (rounded to fp16 for the product; the normaliser z sums the same
  // rounded weights), the tile's P V through the subgroup's rows of ss, and the lane's outputs and z
  // rescaled by exp(beta^2 (m_old - m)) in fp32 (a row scale is no cooperative-matrix operation).
  float m = NEG_INF, z = 0.0;
  float acc_out[kMaxD / 2u];  // this lane's channels par + 2i of row my_row
  [[unroll]] for (uint i = 0u; i < kMaxD / 2u; ++i) acc_out[i] = 0.0;
  uvec2 keys_next[kMaxUnits], values_next[kMaxUnits];
  if (nk_last > 0) {
    fetch_tile(false, 0, nk_last - 1, kb, pc.k_key_stride, keys_next);
    fetch_tile(true, 0, nk_last - 1, vb, pc.v_key_stride, values_next);
  }
  for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
    stash_tile(false, keys_next);
    stash_tile(true, values_next);
    barrier();  // the tile is in ks / vs, and every subgroup has read its previous P V
    if (j0 + int(BK) < nk_last) {
      fetch_tile(false, j0 + int(BK), nk_last - 1, kb, pc.k_key_stride, keys_next);
      fetch_tile(true, j0 + int(BK), nk_last - 1, vb, pc.v_key_stride, values_next);
    }
    tile_cosines(sg_row, qa);
    float c[BK / 2u];
    float m_tile = NEG_INF;
    [[unroll]] for (uint i = 0u; i < BK / 2u; ++i) {
      const uint j = 2u * i + par;
      c[i] = j0 + int(j) < my_nk ? ss[my_row * SS + j] : NEG_INF;
      m_tile = max(m_tile, c[i]);
    }
    const float m_new = max(m, max(m_tile, subgroupShuffleXor(m_tile, 1u)));
    // exp(-inf) = 0 rescales nothing yet accumulated; a row with no visible key so far keeps 1.
    const float alpha = m_new == NEG_INF ? 1.0 : exp(beta2 * (m - m_new));
    float zt = 0.0;
    [[unroll]] for (uint i = 0u; i < BK / 2u; ++i) {
      const float16_t ph = float16_t(c[i] == NEG_INF ? 0.0 : exp(beta2 * (c[i] - m_new)));
      zt += float(ph);
      ps[my_row * PS + 2u * i + par] = ph;
    }
    z = z * alpha + zt;
    m = m_new;
    subgroupMemoryBarrierShared();
    subgroupBarrier();
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> o[OB];
    for (uint b = 0u; b < OB; ++b) o[b] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);
    for (uint k = 0u; k < BK / 16u; ++k) {
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> pa;
      coopMatLoadNV(pa, ps, sg_row * PS + 16u * k, PS, false);
      for (uint b = 0u; b < OB; ++b) {
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> vm;
        coopMatLoadNV(vm, vs, (16u * k) * KS + 8u * b, KS, false);
        o[b] = coopMatMulAddNV(pa, vm, o[b]);
      }
    }
    // The cosines in ss are consumed (the subgroup barrier above): the tile's P V takes their place.
    for (uint b = 0u; b < OB; ++b) coopMatStoreNV(o[b], ss, sg_row * SS + 8u * b, SS, false);
    subgroupMemoryBarrierShared();
    subgroupBarrier();
    [[unroll]] for (uint i = 0u; i < kMaxD / 2u; ++i)
      if (i < D / 2u) acc_out[i] = acc_out[i] * alpha + ss[my_row * SS + 2u * i + par];
  }
  z += subgroupShuffleXor(z, 1u);
  const float f = out_scale[h] * pc.scale;
  // Lane pair (2r, 2r + 1): row r's D outputs, alternate channels.
  if (my_row < tile_rows) {
    float g = z > 0.0 ? f / z : 0.0;  // a row with no visible key gives 0
    [[unroll]] for (uint i = 0u; i < kMaxD / 2u; ++i) {
      if (i < D / 2u) {
        uint oe = (pc.row_base + r0 + my_row) * pc.out_stride + h * D + 2u * i + par;
        float val = g * acc_out[i];
        outv[oe] = ((pc.flags & 2u) != 0u) ? outv[oe] + val : val;
      }
    }
  }
}
