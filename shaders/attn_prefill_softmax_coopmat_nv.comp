#version 450
// requires-glsl-feature: cooperative_matrix_nv
// attn_prefill_softmax.comp on the matrix units (attn_prefill_coopmat_nv.glsl: tiles, lanes,
// queries): each subgroup walks the visible keys once, in tiles of 64, with the online softmax: the
// weights p = exp(beta^2 (c - m)) <= 1 against the row maximum so far (rounded to fp16 for the product
// with the values; the normaliser sums the same rounded weights), the tile's weighted values through
// shared memory into the lanes' fp32 outputs, which are rescaled whenever the maximum grows.
#include "attn_prefill_coopmat_nv.glsl"

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

  fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> qa[DK];
  load_query_matrices(h, r0, tile_rows, sg_row, qa);
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
    next_key_value_tile(j0, nk_last, kb, vb, keys_next, values_next);
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
