#version 450
// requires-glsl-feature: cooperative_matrix_nv
// attn_prefill_entmax.comp on the matrix units (attn_prefill_coopmat_nv.glsl: tiles, lanes, queries):
// exact entmax (alpha = 1 + 1/R, R = 1, 2, 3) of a prompt chunk. Every sweep over the visible keys
// recomputes a tile's cosines with the same matrix instructions (the same values each sweep):
// 1. the exact row maximum m; y = (alpha - 1) beta^2 (c - m) <= 0 from here on;
// 2. the threshold (attn_prefill_threshold.glsl): each sweep gathers the count, shifted moments and
//    min {y > t} at POINTS points t per row (each lane its half of the keys, the pair's sums added at the
//    end: a fixed order). A subgroup whose rows are all final skips its products; the sweeps end when
//    every row of the tile is final (at most MAX_SWEEPS);
// 3. p = [y - tau]_+^R <= 1, rounded to fp16 for the product with the values (the normaliser sums the
//    same rounded weights), the weighted values accumulated by the matrix units across all tiles (no
//    rescaling: tau is final); a subgroup skips the product of a tile none of its rows gives a weight.
#include "attn_prefill_coopmat_nv.glsl"
layout(constant_id = 3) const uint R = 2;       // 1 / (alpha - 1)
layout(constant_id = 4) const uint POINTS = 1;  // threshold points per sweep (attn_prefill_threshold.glsl)
#define MAX_SWEEPS 64u
const uint NSG = BQ / SG_ROWS;       // subgroups per workgroup (the host: WG = 128, 32 lanes)
shared uint open_subgroups[NSG];     // 16 bytes: cooperative-matrix kernels keep 16-byte variables
#include "attn_prefill_threshold.glsl"

// subgroupAny on the arithmetic operations the host requires (no vote extension needed).
bool subgroup_any(bool x) { return subgroupOr(x ? 1u : 0u) != 0u; }

// Tile j0's keys (prefetched in `next`) into ks, and the following tile's (or the first one's again,
// for the next sweep) fetched into `next`. Called by the whole workgroup.
void next_key_tile(int j0, int nk_last, uint kb, inout uvec2 next[kMaxUnits]) {
  barrier();  // every subgroup is done with the previous tile in ks
  stash_tile(false, next);
  barrier();
  fetch_tile(false, j0 + int(BK) < nk_last ? j0 + int(BK) : 0, nk_last - 1, kb, pc.k_key_stride, next);
}

void main() {
  const uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  const uint h = gl_WorkGroupID.y;
  const uint tile = gl_NumWorkGroups.x - 1u - gl_WorkGroupID.x, r0 = tile * BQ;  // longest tiles first
  const uint tile_rows = min(BQ, pc.rows - r0);
  const int nk_last = row_keys(r0 + tile_rows - 1u, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  const uint sg_row = sg * SG_ROWS;
  const uint my_row = sg_row + lane / 2u, par = lane % 2u;
  const int my_nk = my_row < tile_rows ? row_keys(r0 + my_row, pc.row_base, pc.mask_offset, pc.nkeys_fixed) : 0;
  const float ys = (1.0 / float(R)) * head_scale[h];  // y = ys * (c - m)
  const uint kb = pc.k_base + h * pc.k_head_stride, vb = pc.v_base + h * pc.v_head_stride;
  fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> qa[DK];
  load_query_matrices(h, r0, tile_rows, sg_row, qa);
  // A subgroup with no visible key in any of its rows skips every product.
  const bool sg_live = subgroup_any(my_nk > 0);

  uvec2 keys_next[kMaxUnits];
  if (nk_last > 0) fetch_tile(false, 0, nk_last - 1, kb, pc.k_key_stride, keys_next);
  // Sweep 1: row maxima.
  float m = NEG_INF;
  for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
    next_key_tile(j0, nk_last, kb, keys_next);
    if (sg_live) {
      tile_cosines(sg_row, qa);
      [[unroll]] for (uint i = 0u; i < BK / 2u; ++i) {
        const uint j = 2u * i + par;
        if (j0 + int(j) < my_nk) m = max(m, ss[my_row * SS + j]);
      }
    }
  }
  m = max(m, subgroupShuffleXor(m, 1u));

  // Sweeps 2: the threshold per row, bracket [a, b] with f(a) >= 1 >= f(b).
  float a = -1.0, b = 0.0, tau = 0.0, pts[POINTS];
  first_points(pts);
  bool done = m == NEG_INF;  // a row with no visible key: weight sum 0, output 0
  for (uint sweep = 0u; sweep < MAX_SWEEPS; ++sweep) {
    const bool sg_open = subgroup_any(!done);
    barrier();  // every subgroup has read the previous sweep's flags
    if (subgroupElect()) open_subgroups[sg] = sg_open ? 1u : 0u;
    barrier();
    uint open = 0u;
    for (uint s = 0u; s < NSG; ++s) open += open_subgroups[s];
    if (open == 0u) break;  // uniform: read between two barriers
    float n[POINTS], s1[POINTS], s2[POINTS], s3[POINTS], ymin[POINTS];
    clear_sums(n, s1, s2, s3, ymin);
    for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
      next_key_tile(j0, nk_last, kb, keys_next);
      if (sg_open) {
        tile_cosines(sg_row, qa);
        if (!done) {
          [[unroll]] for (uint i = 0u; i < BK / 2u; ++i) {
            const uint j = 2u * i + par;
            if (j0 + int(j) < my_nk) gather(ys * (ss[my_row * SS + j] - m), pts, n, s1, s2, s3, ymin);
          }
        }
      }
    }
    if (sg_open) {
      for (uint i = 0u; i < POINTS; ++i) {
        n[i] += subgroupShuffleXor(n[i], 1u);
        s1[i] += subgroupShuffleXor(s1[i], 1u);
        s2[i] += subgroupShuffleXor(s2[i], 1u);
        s3[i] += subgroupShuffleXor(s3[i], 1u);
        ymin[i] = min(ymin[i], subgroupShuffleXor(ymin[i], 1u));
      }
      if (!done) threshold_step(n, s1, s2, s3, ymin, pts, a, b, tau, done);
    }
  }
  if (!done) tau = a;  // MAX_SWEEPS reached: the last verified left point

  // Sweep 3: weights, normaliser, weighted values (keys_next holds the first tile again).
  uvec2 values_next[kMaxUnits];
  if (nk_last > 0) fetch_tile(true, 0, nk_last - 1, vb, pc.v_key_stride, values_next);
  float z = 0.0;
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> o[OB];
  for (uint c = 0u; c < OB; ++c) o[c] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);
  for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
    next_key_value_tile(j0, nk_last, kb, vb, keys_next, values_next);
    if (!sg_live) continue;  // uniform in the subgroup
    tile_cosines(sg_row, qa);
    bool any = false;
    [[unroll]] for (uint i = 0u; i < BK / 2u; ++i) {
      const uint j = 2u * i + par;
      const float p = j0 + int(j) < my_nk ? entmax_weight(ys * (ss[my_row * SS + j] - m), tau) : 0.0;
      const float16_t ph = float16_t(p);
      z += float(ph);
      any = any || ph > float16_t(0.0);
      ps[my_row * PS + j] = ph;
    }
    subgroupMemoryBarrierShared();
    subgroupBarrier();
    if (subgroup_any(any)) {
      for (uint k = 0u; k < BK / 16u; ++k) {
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> pa;
        coopMatLoadNV(pa, ps, sg_row * PS + 16u * k, PS, false);
        for (uint c = 0u; c < OB; ++c) {
          fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> vm;
          coopMatLoadNV(vm, vs, (16u * k) * KS + 8u * c, KS, false);
          o[c] = coopMatMulAddNV(pa, vm, o[c]);
        }
      }
    }
  }
  // The outputs through this subgroup's rows of ss (D <= BK); lane pair (2r, 2r + 1): row r's D
  // outputs, alternate channels.
  z += subgroupShuffleXor(z, 1u);
  for (uint c = 0u; c < OB; ++c) coopMatStoreNV(o[c], ss, sg_row * SS + 8u * c, SS, false);
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  if (my_row < tile_rows) {
    const float g = z > 0.0 ? out_scale[h] * pc.scale / z : 0.0;  // a row with no visible key gives 0
    [[unroll]] for (uint i = 0u; i < kMaxD / 2u; ++i) {
      if (i < D / 2u) {
        const uint oe = (pc.row_base + r0 + my_row) * pc.out_stride + h * D + 2u * i + par;
        const float val = g * ss[my_row * SS + 2u * i + par];
        outv[oe] = ((pc.flags & 2u) != 0u) ? outv[oe] + val : val;
      }
    }
  }
}
