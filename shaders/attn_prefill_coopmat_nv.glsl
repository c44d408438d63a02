// Shared by the tiled prompt-chunk attention kernels on NVIDIA cooperative matrices
// (attn_prefill_softmax_coopmat_nv, attn_prefill_entmax_coopmat_nv): 16 x 8 x 16 fp16 products with
// fp32 accumulation, for F16 caches with the queries from the key cache (every input already an fp16
// value: the products are exact, only the fp32 accumulation rounds). One workgroup of 4 subgroups of
// 32 per (tile of 64 query rows, head); each subgroup owns 16 rows and keeps their queries in
// cooperative matrices; lanes 2r and 2r + 1 share row r of the subgroup's 16 (keys 2j + parity of a
// tile). The host dispatches these only where the device has the shape and 32-lane subgroups, for D
// a multiple of 16 whose tiles fit the shared memory (ops_attention_tiled.cpp).
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

// The queries of tile rows r0.. (cache rows pos0 + row_base + r0 + r, the last one repeated beyond
// tile_rows) through ps (D <= BK) into this subgroup's matrices.
void load_query_matrices(uint h, uint r0, uint tile_rows, uint sg_row,
                         out fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> qa[DK]) {
  const int first_q = int(step.pos0 + pc.row_base + r0);
  [[dont_unroll]] for (uint e = gl_LocalInvocationID.x; e < BQ * (D / 4u); e += WG) {
    uint r = e / (D / 4u), c4 = e % (D / 4u);
    uint row = uint(first_q + int(min(r, tile_rows - 1u)));
    uvec2 w = Q_f16x4[(row * pc.q_stride + h * D) / 4u + c4];
    vec2 lo = unpackHalf2x16(w.x), hi = unpackHalf2x16(w.y);
    f16vec4 q = f16vec4(lo.x, lo.y, hi.x, hi.y);
    for (uint c = 0u; c < 4u; ++c) ps[r * PS + 4u * c4 + c] = q[c];
  }
  barrier();
  for (uint k = 0u; k < DK; ++k) coopMatLoadNV(qa[k], ps, sg_row * PS + 16u * k, PS, false);
  barrier();
}

// Tile j0's keys and values (fetched ahead into `keys` / `values`) into ks / vs, and the next tile's
// fetched into the registers. Called by the whole workgroup.
void next_key_value_tile(int j0, int nk_last, uint kb, uint vb, inout uvec2 keys[kMaxUnits],
                         inout uvec2 values[kMaxUnits]) {
  barrier();  // every subgroup is done with the previous tile in ks / vs
  stash_tile(false, keys);
  stash_tile(true, values);
  barrier();
  if (j0 + int(BK) < nk_last) {
    fetch_tile(false, j0 + int(BK), nk_last - 1, kb, pc.k_key_stride, keys);
    fetch_tile(true, j0 + int(BK), nk_last - 1, vb, pc.v_key_stride, values);
  }
}
