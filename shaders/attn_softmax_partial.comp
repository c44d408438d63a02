#version 450
// Softmax attention as one dispatch (flash-decoding with the merge done by the last workgroup to
// finish). One workgroup per (chunk, head, row); a chunk is a run of tiles of WG keys, as many tiles
// as keep the chunks of a row within pc.max_chunks (chunk_keys_for, attention_common.glsl: one tile
// per workgroup up to max_chunks tiles, then a bounded merge). Per tile: the
// cosines (cosine.glsl: compensated, coalesced), e_j = exp(beta^2 (c_j - m)) against the running max
// m (earlier tiles rescaled when it grows), their sum z and the values sum_j e_j v_j. The chunk's
// (m, z) and partial output go to `work`; the last workgroup of a (row, head) (atomic counter) merges
// o = sum_i partial_i e^(beta^2 (m_i - M)) / sum_i z_i e^(beta^2 (m_i - M)), out (+)= scale ·
// out_scale[h] · o. Partials are written, fenced (memoryBarrierBuffer) and then counted; the merging
// workgroup fences again before reading them through `coherent` buffers. Counters return to 0.
// Rows with no visible key produce 0. Eight buffers (a Raspberry Pi's V3DV allows no more).
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
#define KV_CACHE_SPEC_ID 2
#include "kv_cache.glsl"
KV_CACHE_BUFFER(1, readonly, Q)  // the query: a key cache row (flags & 1) or float32 rows
KV_CACHE_BUFFER(2, readonly, K)
KV_CACHE_LOADS(Q)
KV_CACHE_LOADS(K)
KV_CACHE_BUFFER(3, readonly, V)  // d, bases, strides % 4 == 0
KV_CACHE_LOADS(V)
layout(std430, binding = 4) readonly buffer HS { float head_scale[]; };
// work: partials [rows * H, max_chunks, d] at 0, (m, z) pairs at stats_offset, counters [rows * H]
// at counter_offset (words).
layout(std430, binding = 5) coherent buffer W { float work[]; };
layout(std430, binding = 5) coherent buffer W4 { vec4 work4[]; };
layout(std430, binding = 5) coherent buffer WC { uint work_count[]; };
layout(std430, binding = 6) readonly buffer OS { float out_scale[]; };
layout(std430, binding = 7) buffer O { float outv[]; };
layout(push_constant) uniform P {
  uint d, H, q_stride, flags, k_base, k_head_stride, k_key_stride, v_base, v_head_stride, v_key_stride;
  uint mask_offset, nkeys_fixed, row_base, C, max_chunks, stats_offset, counter_offset;
  float scale;
} pc;
// flags: 1 the query is a cache row (pos0 + row), 2 accumulate into out
#include "attention_common.glsl"
#include "reduce.glsl"
shared float qs[WG];
shared float es[WG];
shared vec4 red4[2u * WG];  // two quads per thread on the wide value path
shared bool is_last;
#include "cosine.glsl"

void main() {
  // Heads fastest: workgroups issued together read neighbouring parts of the same key rows.
  uint h = gl_WorkGroupID.x, chunk = gl_WorkGroupID.y, rl = gl_WorkGroupID.z;
  uint tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h;
  bool accumulate = (pc.flags & 2u) != 0u;
  int nki = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (nki <= 0) {  // uniform: no visible key, o = 0
    if (chunk == 0u && tid < pc.d && !accumulate) outv[(pc.row_base + rl) * pc.C + h * pc.d + tid] = 0.0;
    return;
  }
  uint nk = uint(nki);
  uint ck = chunk_keys_for(nk, WG, pc.max_chunks);
  uint nch = (nk + ck - 1u) / ck;
  if (chunk >= nch) return;  // uniform
  uint qrow = ((pc.flags & 1u) != 0u) ? step.pos0 + pc.row_base + rl : pc.row_base + rl;
  uint qe = qrow * pc.q_stride + h * pc.d + tid;
  if (tid < pc.d) qs[tid] = ((pc.flags & 1u) != 0u) ? Q_load(qe) : Q_f32[qe];
  barrier();
  float beta2 = head_scale[h];
  // Values as vec4: threads = (lane g, channel quad c4), G = WG / (d/4) lanes split a tile's keys.
  uint D4 = pc.d / 4u, G = WG / D4, g = tid / D4, c4 = tid % D4;
  uint stride4 = pc.v_key_stride / 4u;
  uint vhead = (pc.v_base + h * pc.v_head_stride) / 4u + c4;
  // F16 values with DH % 32 == 0 (the keys' COS_WIDE): 16-byte loads of 8 channels, D8 = DH / 8
  // lanes per key, G8 lanes over a tile's keys (host: value base and strides multiples of 8).
  const uint D8 = COS_WIDE ? DH / 8u : 1u, G8 = WG / D8;
  uint g8 = tid / D8, c8 = tid % D8;
  uint stride8 = pc.v_key_stride / 8u;
  uint vhead8 = (pc.v_base + h * pc.v_head_stride) / 8u + c8;
  float m = NEG_INF, z = 0.0;
  vec4 acc0 = vec4(0.0), acc1 = vec4(0.0), acc2 = vec4(0.0), acc3 = vec4(0.0);
  uint start = chunk * ck, end = min(start + ck, nk);
  // Wide path: keys per lane (pairs), at most 16 (DH <= 128, WG >= DH); compile-time bound below.
  const uint NPL8 = (WG + G8 - 1u) / G8, NPL8_PAIRS = (NPL8 + 1u) & ~1u;
  for (uint t0 = start; t0 < end; t0 += WG) {  // uniform
    uint keys_here = min(WG, nk - t0);
    uint vb = vhead + t0 * stride4;
    // Wide path: the tile's value units are loaded before its cosines, so the key and value loads
    // are in flight together (one memory round trip per tile instead of two); clamped to the
    // tile's last key (weight 0 there).
    uint vb8 = vhead8 + t0 * stride8;
    uvec4 vraw[16];
    if (COS_WIDE && g8 < G8) {
      [[unroll]] for (uint i = 0u; i < 16u; ++i)
        if (i < NPL8_PAIRS) vraw[i] = V_raw8(vb8 + min(g8 + i * G8, keys_here - 1u) * stride8);
    }
    chunk_cosines(t0 / WG, int(nk), pc.k_base + h * pc.k_head_stride, pc.k_key_stride, pc.d);
    float c = cs[tid];
    float mt = wg_max(c);  // finite: the tile has a visible key
    float mn = max(m, mt);
    float rescale = m == NEG_INF ? 0.0 : exp(beta2 * (m - mn));
    m = mn;
    float e = t0 + tid < nk ? exp(beta2 * (c - m)) : 0.0;
    es[tid] = e;
    z = z * rescale + wg_sum(e);  // its barriers also publish es[]
    acc0 *= rescale;
    acc1 *= rescale;
    acc2 *= rescale;
    acc3 *= rescale;
    if (COS_WIDE) {
      // Two keys per step from the units loaded above.
      if (g8 < G8)
        [[unroll]] for (uint i = 0u; i < 16u; i += 2u) {
          if (i < NPL8) {
            uint ja = g8 + i * G8, jb = ja + G8;
            vec4 a0, a1, b0, b1;
            kv_unpack8(vraw[i], a0, a1);
            kv_unpack8(vraw[i + 1u], b0, b1);
            float ea = ja < keys_here ? es[ja] : 0.0, eb = jb < keys_here ? es[jb] : 0.0;
            acc0 += ea * a0;
            acc1 += ea * a1;
            acc2 += eb * b0;
            acc3 += eb * b1;
          }
        }
    } else if (DH != 0u) {
      // Head size known (specialised): WG / G keys per lane, every load issued before the sums use
      // them (clamped to the tile's last key, weight 0 there: no branch around the loads).
      const uint NPL = (WG + WG / (DH / 4u) - 1u) / (WG / (DH / 4u));  // keys per lane: ceil(WG / G)
      if (g < G)
        for (uint i = 0u; i < NPL; i += 2u) {
          uint ja = g + i * G, jb = ja + G;
          vec4 va = V_load4(vb + min(ja, keys_here - 1u) * stride4);
          vec4 vb2 = V_load4(vb + min(jb, keys_here - 1u) * stride4);
          acc0 += (ja < keys_here ? es[ja] : 0.0) * va;
          acc1 += (jb < keys_here ? es[jb] : 0.0) * vb2;
        }
    } else if (g < G) {
      uint jj = g;
      for (; jj + G < keys_here; jj += 2u * G) {  // two independent accumulators: loads in flight
        acc0 += es[jj] * V_load4(vb + jj * stride4);
        acc1 += es[jj + G] * V_load4(vb + (jj + G) * stride4);
      }
      if (jj < keys_here) acc0 += es[jj] * V_load4(vb + jj * stride4);
    }
  }
  if (COS_WIDE) {
    red4[2u * tid] = acc0 + acc2;  // channels 8 c8 .. + 3
    red4[2u * tid + 1u] = acc1 + acc3;
  } else {
    red4[tid] = acc0 + acc1;
  }
  barrier();
  uint slot = row * pc.max_chunks + chunk;
  if (tid < D4) {
    vec4 s = vec4(0.0);
    if (COS_WIDE)  // quad tid = half tid % 2 of unit tid / 2
      for (uint gg = 0u; gg < G8; ++gg) s += red4[2u * (gg * D8 + tid / 2u) + tid % 2u];
    else
      for (uint gg = 0u; gg < G; ++gg) s += red4[gg * D4 + tid];
    work4[slot * D4 + tid] = s;
  }
  if (tid == 0u) {
    work[pc.stats_offset + 2u * slot] = m;
    work[pc.stats_offset + 2u * slot + 1u] = z;
  }
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) is_last = atomicAdd(work_count[pc.counter_offset + row], 1u) == nch - 1u;
  barrier();
  if (!is_last) return;  // uniform: shared flag
  memoryBarrierBuffer();
  // Merge the chunks of (row, h): every thread a strided subset, then fixed-order trees.
  uint rbase = row * pc.max_chunks;
  float M = NEG_INF;
  for (uint i = tid; i < nch; i += WG) M = max(M, work[pc.stats_offset + 2u * (rbase + i)]);
  M = wg_max(M);
  float zz = 0.0;
  for (uint i = tid; i < nch; i += WG) {
    uint sa = pc.stats_offset + 2u * (rbase + i);
    zz += work[sa + 1u] * exp(beta2 * (work[sa] - M));
  }
  zz = wg_sum(zz);
  vec4 o = vec4(0.0);
  if (g < G) {
    // 8 chunks per step, all loaded before any is summed (one workgroup walks up to max_chunks).
    uint i = g;
    for (; i + 7u * G < nch; i += 8u * G) {
      float w[8];
      vec4 pv[8];
      [[unroll]] for (uint u = 0u; u < 8u; ++u) {
        w[u] = work[pc.stats_offset + 2u * (rbase + i + u * G)];
        pv[u] = work4[(rbase + i + u * G) * D4 + c4];
      }
      [[unroll]] for (uint u = 0u; u < 8u; ++u) o += exp(beta2 * (w[u] - M)) * pv[u];
    }
    for (; i < nch; i += G)
      o += exp(beta2 * (work[pc.stats_offset + 2u * (rbase + i)] - M)) * work4[(rbase + i) * D4 + c4];
  }
  red4[tid] = o;
  barrier();
  if (tid < D4) {
    vec4 s = vec4(0.0);
    for (uint gg = 0u; gg < G; ++gg) s += red4[gg * D4 + tid];
    s *= out_scale[h] * pc.scale / zz;
    uint o = (pc.row_base + rl) * pc.C + h * pc.d + 4u * tid;
    for (uint k = 0u; k < 4u; ++k) outv[o + k] = accumulate ? outv[o + k] + s[k] : s[k];
  }
  if (tid == 0u) work_count[pc.counter_offset + row] = 0u;
}
