// Shared by the tiled prompt-chunk attention kernels on shared memory and FMA (attn_prefill_softmax,
// attn_prefill_entmax): the bindings and push constants, the query tile, key/value tiles and the
// tile's cosines. Threads: a (BQ / TR) x (BK / TC) grid, each owning TR x TC cosines of a tile and
// BQ * D / WG output elements. Cosines use the error-free products and compensated sums of cosine.glsl
// (beta^2 = e^10 turns 1e-7 relative cosine errors into 2e-3 score errors). Only shared memory and
// barriers: the same code serves devices with and without subgroup operations.
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
#define KV_CACHE_SPEC_ID 2
#include "kv_cache.glsl"
KV_CACHE_BUFFER(1, readonly, Q)  // the query: a key cache row (flags & 1) or float32 rows
KV_CACHE_BUFFER(2, readonly, K)
KV_CACHE_BUFFER(3, readonly, V)
KV_CACHE_LOADS(Q)
KV_CACHE_LOADS(K)
KV_CACHE_LOADS(V)
layout(std430, binding = 4) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 5) readonly buffer OS { float out_scale[]; };
layout(std430, binding = 6) buffer O { float outv[]; };
layout(push_constant) uniform P {
  uint H, q_stride, flags;  // flags: 1 = query rows are cache rows pos0 + row, 2 = accumulate
  uint k_base, k_head_stride, k_key_stride, v_base, v_head_stride, v_key_stride;
  uint mask_offset, nkeys_fixed, row_base, rows, out_stride;
  float scale;
} pc;
#include "attention_common.glsl"
layout(constant_id = 1) const uint D = 64;  // head size (a multiple of 4)
layout(constant_id = 3) const uint BQ = 32;
layout(constant_id = 4) const uint BK = 32;
layout(constant_id = 5) const uint TR = 4;
layout(constant_id = 6) const uint TC = 4;
const uint DS = D + 1u;  // shared row stride of queries and keys: threads of a row read other banks
const uint SS = BK + 1u;
const uint OPT = (BQ * D + WG - 1u) / WG;  // output elements per thread
shared float qs[BQ * DS];
shared float ks[BK * DS];
shared float vs[BK * D];
shared float ps[BQ * SS];  // a tile's cosines, then its weights
shared float row_max[BQ], row_sum[BQ], row_rescale[BQ];  // per row: max cosine, normaliser, rescaling

#include "compensated.glsl"

// Queries of tile rows [r0, r0 + tile_rows) (0 beyond) into qs.
void load_queries(uint h, uint r0, uint tile_rows) {
  const bool cache_q = (pc.flags & 1u) != 0u;
  for (uint e = gl_LocalInvocationID.x; e < BQ * D; e += WG) {
    uint r = e / D, c = e % D;
    float q = 0.0;
    if (r < tile_rows) {
      uint row = pc.row_base + r0 + r;
      uint qe = (cache_q ? step.pos0 + row : row) * pc.q_stride + h * D + c;
      q = cache_q ? Q_load(qe) : Q_f32[qe];
    }
    qs[r * DS + c] = q;
  }
}

// Keys (and values) j0 .. j0 + BK - 1 of head base kb (vb) into ks (vs), clamped to key `last`.
void load_keys(uint kb, int j0, int last) {
  [[dont_unroll]] for (uint e = gl_LocalInvocationID.x; e < BK * (D / 4u); e += WG) {
    uint j = e / (D / 4u), c4 = e % (D / 4u);
    vec4 k = K_load4((kb + uint(min(j0 + int(j), last)) * pc.k_key_stride) / 4u + c4);
    for (uint c = 0u; c < 4u; ++c) ks[j * DS + 4u * c4 + c] = k[c];
  }
}
void load_values(uint vb, int j0, int last) {
  [[dont_unroll]] for (uint e = gl_LocalInvocationID.x; e < BK * (D / 4u); e += WG) {
    uint j = e / (D / 4u), c4 = e % (D / 4u);
    vec4 v = V_load4((vb + uint(min(j0 + int(j), last)) * pc.v_key_stride) / 4u + c4);
    for (uint c = 0u; c < 4u; ++c) vs[j * D + 4u * c4 + c] = v[c];
  }
}

// Cosines of the tile (rows r0.., keys j0..) into ps; NEG_INF where the key is not visible to the row.
void tile_cosines(uint r0, uint tile_rows, int j0) {
  const uint tid = gl_LocalInvocationID.x, tr = tid / (BK / TC), tc = tid % (BK / TC);
  if (tr * TR >= BQ) return;
  precise float sum[TR][TC], err[TR][TC];
  for (uint i = 0u; i < TR; ++i)
    for (uint j = 0u; j < TC; ++j) {
      sum[i][j] = 0.0;
      err[i][j] = 0.0;
    }
  [[dont_unroll]] for (uint c = 0u; c < D; ++c) {
    float a[TR], b[TC];
    for (uint i = 0u; i < TR; ++i) a[i] = qs[(tr + i * (BQ / TR)) * DS + c];
    for (uint j = 0u; j < TC; ++j) b[j] = ks[(tc + j * (BK / TC)) * DS + c];
    for (uint i = 0u; i < TR; ++i)
      for (uint j = 0u; j < TC; ++j) comp_fma(a[i], b[j], sum[i][j], err[i][j]);
  }
  for (uint i = 0u; i < TR; ++i) {
    uint r = tr + i * (BQ / TR);
    int nk = row_keys(r0 + r, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
    for (uint j = 0u; j < TC; ++j) {
      uint jj = tc + j * (BK / TC);
      ps[r * SS + jj] = (r < tile_rows && j0 + int(jj) < nk) ? sum[i][j] + err[i][j] : NEG_INF;
    }
  }
}

// acc = acc * rescale[row] + the tile's weights (ps) times its values (vs).
void accumulate_values(inout float acc[OPT], bool rescale) {
  for (uint i = 0u; i < OPT; ++i) {
    uint e = gl_LocalInvocationID.x + i * WG, r = e / D, c = e % D;
    if (e >= BQ * D) break;
    float s = rescale ? acc[i] * row_rescale[r] : acc[i];
    [[dont_unroll]] for (uint j = 0u; j < BK; ++j) s = fma(ps[r * SS + j], vs[j * D + c], s);
    acc[i] = s;
  }
}

// out rows (+)= out_scale[h] * scale * acc / norm[row] (0 where norm is 0: no visible key).
void store_outputs(uint h, uint r0, uint tile_rows, float acc[OPT]) {
  const float f = out_scale[h] * pc.scale;
  for (uint i = 0u; i < OPT; ++i) {
    uint e = gl_LocalInvocationID.x + i * WG, r = e / D, c = e % D;
    if (e >= BQ * D || r >= tile_rows) break;
    float z = row_sum[r];
    uint o = (pc.row_base + r0 + r) * pc.out_stride + h * D + c;
    float val = z > 0.0 ? f * acc[i] / z : 0.0;
    outv[o] = ((pc.flags & 2u) != 0u) ? outv[o] + val : val;
  }
}
