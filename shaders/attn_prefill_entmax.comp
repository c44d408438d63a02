#version 450
// Exact entmax (alpha = 1 + 1/r, r = 1, 2, 3) of a prompt chunk (rows > 1), tiled: one workgroup per
// (tile of BQ query rows, head) sweeps the visible keys in tiles of BK, recomputing the tile's cosines
// each sweep (no rows x keys scores anywhere):
// 1. the exact row maximum m of the cosines; y_j = (alpha - 1) beta^2 (c_j - m) <= 0 from here on;
// 2. the threshold (attn_prefill_threshold.glsl), as attn_entmax_threshold.comp on the full row
//    instead of a candidate list: each sweep gathers, at POINTS points per row, the count, the shifted
//    moments (fixed summation order) and min {y > t}. Rows whose threshold is final skip their sums;
//    the sweeps end when every row of the tile is final (at most MAX_SWEEPS);
// 3. p_j = [y_j - tau]_+^r, normaliser sum p_j of exactly these weights, and the weighted values: a
//    value tile is read only when some row of the tile gives one of its keys a weight (every key with
//    y <= -1 has weight exactly 0).
// Tiles, cosines and bindings: attn_prefill_fma.glsl.
#include "attn_prefill_fma.glsl"
layout(constant_id = 7) const uint R = 2;       // 1 / (alpha - 1)
layout(constant_id = 8) const uint POINTS = 1;  // threshold points per sweep (attn_prefill_threshold.glsl)
#define MAX_SWEEPS 64u
shared uint open_rows, tile_used;

#include "attn_prefill_threshold.glsl"

void main() {
  const uint tid = gl_LocalInvocationID.x, h = gl_WorkGroupID.y;
  const uint tile = gl_NumWorkGroups.x - 1u - gl_WorkGroupID.x, r0 = tile * BQ;  // longest tiles first
  const uint tile_rows = min(BQ, pc.rows - r0);
  const int nk_last = row_keys(r0 + tile_rows - 1u, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  const float ys = (1.0 / float(R)) * head_scale[h];  // y = ys * (c - m)
  const uint kb = pc.k_base + h * pc.k_head_stride, vb = pc.v_base + h * pc.v_head_stride;
  load_queries(h, r0, tile_rows);
  // Sweep 1: row maxima (thread tid < BQ owns row tid through every sweep).
  float m = NEG_INF;
  for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
    barrier();
    load_keys(kb, j0, nk_last - 1);
    barrier();
    tile_cosines(r0, tile_rows, j0);
    barrier();
    if (tid < BQ)
      for (uint j = 0u; j < BK; ++j) m = max(m, ps[tid * SS + j]);
  }
  // Sweeps 2: the threshold per row, bracket [a, b] with f(a) >= 1 >= f(b) (y_max = 0, so f(-1) >= 1, f(0) = 0).
  float a = -1.0, b = 0.0, tau = 0.0, pts[POINTS];
  first_points(pts);
  bool done = !(tid < BQ) || m == NEG_INF;  // a row with no visible key: weight sum 0, output 0
  for (uint sweep = 0u; sweep < MAX_SWEEPS; ++sweep) {
    barrier();
    if (tid == 0u) open_rows = 0u;
    barrier();
    if (!done) atomicAdd(open_rows, 1u);
    barrier();
    if (open_rows == 0u) break;  // uniform: read between two barriers
    float n[POINTS], s1[POINTS], s2[POINTS], s3[POINTS], ymin[POINTS];
    clear_sums(n, s1, s2, s3, ymin);
    for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
      barrier();
      load_keys(kb, j0, nk_last - 1);
      barrier();
      tile_cosines(r0, tile_rows, j0);
      barrier();
      if (!done)
        for (uint j = 0u; j < BK; ++j) {
          const float c = ps[tid * SS + j];
          gather(c == NEG_INF ? -2.0 : ys * (c - m), pts, n, s1, s2, s3, ymin);
        }
    }
    if (!done) threshold_step(n, s1, s2, s3, ymin, pts, a, b, tau, done);
  }
  if (!done) tau = a;  // MAX_SWEEPS reached: the last verified left point
  // Sweep 3: weights, normaliser, weighted values.
  if (tid < BQ) row_sum[tid] = 0.0;
  float z = 0.0;
  float acc[OPT];
  for (uint i = 0u; i < OPT; ++i) acc[i] = 0.0;
  for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
    barrier();
    if (tid == 0u) tile_used = 0u;
    load_keys(kb, j0, nk_last - 1);
    barrier();
    tile_cosines(r0, tile_rows, j0);
    barrier();
    if (tid < BQ) {
      bool any = false;
      for (uint j = 0u; j < BK; ++j) {
        float c = ps[tid * SS + j];
        float p = (c == NEG_INF || m == NEG_INF) ? 0.0 : entmax_weight(ys * (c - m), tau);
        ps[tid * SS + j] = p;
        z += p;
        any = any || p > 0.0;
      }
      if (any) tile_used = 1u;
    }
    barrier();
    if (tile_used != 0u) {  // uniform
      load_values(vb, j0, nk_last - 1);
      barrier();
      accumulate_values(acc, false);
    }
  }
  if (tid < BQ) row_sum[tid] = z;
  barrier();
  store_outputs(h, r0, tile_rows, acc);
}
