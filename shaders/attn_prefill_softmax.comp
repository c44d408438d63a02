#version 450
// Softmax attention of a prompt chunk (rows > 1), tiled: one workgroup per (tile of BQ query rows,
// head) holds its queries in shared memory and streams the visible keys and values in tiles of BK,
// with an online maximum and normaliser per row (flash attention): no rows x keys scores anywhere.
// Cosines use the same error-free products and compensated sums as cosine.glsl (beta^2 = e^10 turns
// 1e-7 relative cosine errors into 2e-3 score errors); beta^2 multiplies differences c - max c only.
// Weighted values are plain fp32 sums (weights in [0, 1]). Threads: a (BQ / TR) x (BK / TC) grid, each
// owning TR x TC scores of a tile and BQ * D / WG output elements. Only shared memory and barriers:
// the same code serves devices with and without subgroup operations.
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
shared float ps[BQ * SS];  // cosines, then the tile's weights
shared float row_max[BQ], row_sum[BQ], row_rescale[BQ];

// TwoProduct + TwoSum of a * b into (sum, err), as cosine.glsl.
void comp_fma(float a, float b, inout precise float sum, inout precise float err) {
  precise float p = a * b;
  precise float pe = fma(a, b, -p);
  precise float t = sum + p;
  precise float z = t - sum;
  err += (sum - (t - z)) + (p - z) + pe;
  sum = t;
}

void main() {
  const uint tid = gl_LocalInvocationID.x, h = gl_WorkGroupID.y;
  // Causal tiles differ in length: the longest (last) tiles are dispatched first.
  const uint tile = gl_NumWorkGroups.x - 1u - gl_WorkGroupID.x, r0 = tile * BQ;
  const uint tile_rows = min(BQ, pc.rows - r0);
  const bool cache_q = (pc.flags & 1u) != 0u;
  // Keys the last row of the tile sees (rows see keys [0, nk), nondecreasing with the row).
  const int nk_last = row_keys(r0 + tile_rows - 1u, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  for (uint e = tid; e < BQ * D; e += WG) {
    uint r = e / D, c = e % D;
    float q = 0.0;
    if (r < tile_rows) {
      uint row = pc.row_base + r0 + r;
      uint qe = (cache_q ? step.pos0 + row : row) * pc.q_stride + h * D + c;
      q = cache_q ? Q_load(qe) : Q_f32[qe];
    }
    qs[r * DS + c] = q;
  }
  if (tid < BQ) {
    row_max[tid] = NEG_INF;
    row_sum[tid] = 0.0;
  }
  const float beta2 = head_scale[h];
  const uint tr = tid / (BK / TC), tc = tid % (BK / TC);  // score rows tr + i (BQ / TR), keys tc + j (BK / TC)
  float acc[OPT];
  for (uint i = 0u; i < OPT; ++i) acc[i] = 0.0;
  const uint kb = pc.k_base + h * pc.k_head_stride, vb = pc.v_base + h * pc.v_head_stride;
  for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
    barrier();  // the previous tile's keys, values and weights are consumed
    [[dont_unroll]] for (uint e = tid; e < BK * (D / 4u); e += WG) {
      uint j = e / (D / 4u), c4 = e % (D / 4u);
      uint key = uint(min(j0 + int(j), nk_last - 1));  // clamped: masked below
      vec4 k = K_load4((kb + key * pc.k_key_stride) / 4u + c4);
      vec4 v = V_load4((vb + key * pc.v_key_stride) / 4u + c4);
      for (uint c = 0u; c < 4u; ++c) ks[j * DS + 4u * c4 + c] = k[c];
      for (uint c = 0u; c < 4u; ++c) vs[j * D + 4u * c4 + c] = v[c];
    }
    barrier();
    if (tr * TR < BQ) {
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
    barrier();
    if (tid < BQ) {  // online maximum and normaliser of row tid; the tile's weights replace its cosines
      float m_old = row_max[tid], m = m_old;
      for (uint j = 0u; j < BK; ++j) m = max(m, ps[tid * SS + j]);
      float z = 0.0;
      for (uint j = 0u; j < BK; ++j) {
        float c = ps[tid * SS + j];
        float p = c == NEG_INF ? 0.0 : exp(beta2 * (c - m));
        ps[tid * SS + j] = p;
        z += p;
      }
      float rescale = m_old == NEG_INF ? 0.0 : exp(beta2 * (m_old - m));
      row_rescale[tid] = rescale;
      row_sum[tid] = row_sum[tid] * rescale + z;
      row_max[tid] = m;
    }
    barrier();
    for (uint i = 0u; i < OPT; ++i) {
      uint e = tid + i * WG, r = e / D, c = e % D;
      if (e >= BQ * D) break;
      float s = acc[i] * row_rescale[r];
      [[dont_unroll]] for (uint j = 0u; j < BK; ++j) s = fma(ps[r * SS + j], vs[j * D + c], s);
      acc[i] = s;
    }
  }
  barrier();
  const float f = out_scale[h] * pc.scale;
  for (uint i = 0u; i < OPT; ++i) {
    uint e = tid + i * WG, r = e / D, c = e % D;
    if (e >= BQ * D || r >= tile_rows) break;
    float z = row_sum[r];
    uint o = (pc.row_base + r0 + r) * pc.out_stride + h * D + c;
    float val = z > 0.0 ? f * acc[i] / z : 0.0;  // a row with no visible key gives 0
    outv[o] = ((pc.flags & 2u) != 0u) ? outv[o] + val : val;
  }
}
