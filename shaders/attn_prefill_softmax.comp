#version 450
// Softmax attention of a prompt chunk (rows > 1), tiled: one workgroup per (tile of BQ query rows,
// head) holds its queries in shared memory and streams the visible keys and values in tiles of BK,
// with an online maximum and normaliser per row (flash attention): no rows x keys scores anywhere.
// beta^2 multiplies differences c - max c only; weighted values are plain fp32 sums (weights in
// [0, 1]). Tiles, cosines and bindings: attn_prefill_fma.glsl.
#include "attn_prefill_fma.glsl"

void main() {
  const uint tid = gl_LocalInvocationID.x, h = gl_WorkGroupID.y;
  // Causal tiles differ in length: the longest (last) tiles are dispatched first.
  const uint tile = gl_NumWorkGroups.x - 1u - gl_WorkGroupID.x, r0 = tile * BQ;
  const uint tile_rows = min(BQ, pc.rows - r0);
  // Keys the last row of the tile sees (rows see keys [0, nk), nondecreasing with the row).
  const int nk_last = row_keys(r0 + tile_rows - 1u, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  load_queries(h, r0, tile_rows);
  if (tid < BQ) {
    row_max[tid] = NEG_INF;
    row_sum[tid] = 0.0;
  }
  const float beta2 = head_scale[h];
  float acc[OPT];
  for (uint i = 0u; i < OPT; ++i) acc[i] = 0.0;
  const uint kb = pc.k_base + h * pc.k_head_stride, vb = pc.v_base + h * pc.v_head_stride;
  for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
    barrier();  // the previous tile's keys, values and weights are consumed
    load_keys(kb, j0, nk_last - 1);
    load_values(vb, j0, nk_last - 1);
    barrier();
    tile_cosines(r0, tile_rows, j0);
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
    accumulate_values(acc, true);
  }
  barrier();
  store_outputs(h, r0, tile_rows, acc);
}
