#version 450
// Split exact entmax (r = 1, 2, 3), pass 2 of 4: one workgroup per (row, head) gathers the candidate
// counts of the filter segments. When they fit shared memory (count <= min(CAP, sort_limit)) the
// candidates are gathered (segment order) and tau comes from the exact sorted threshold; the norm
// 1/sum p is taken over the candidates (every other key has weight 0 since tau >= -1). Otherwise the
// state is set up for the multi-workgroup Newton passes (attn_entmax_newton) with the bracket
// [-1, -count^(-1/r)] (spec entmax.md, with the candidate count for n) and tau is found there.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer CA { float cand_g[]; };
layout(std430, binding = 2) readonly buffer SC { uint seg_count[]; };
layout(std430, binding = 3) buffer ST { uint state[]; };
layout(std430, binding = 4) writeonly buffer N { float norm[]; };
// Group counts of the Newton steps (zeroed before the filter pass): a row left to Newton raises them
// to (its segments, heads, rows); rows that were sorted leave them, so no step launches when all were.
layout(std430, binding = 5) buffer NG { uint newton_groups[]; };
layout(push_constant) uniform P {
  uint r_int, H, mask_offset, nkeys_fixed, row_base, s_stride, nseg, seg_keys, sort_limit;
  float alpha_minus_1;
  uint newton_steps;  // 0: no step recorded, the group counts are not written
} pc;
layout(constant_id = 2) const uint CAP = 1024;  // candidates held in shared memory (power of two)
#include "attention_common.glsl"
#include "reduce.glsl"
#include "entmax_common.glsl"
#include "entmax_sort.glsl"
shared uint chunk_cnt[WG];
shared uint chunk_off[WG];
shared uint total_sh;

void main() {
  uint h = gl_WorkGroupID.x, rl = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h, base = row * pc.s_stride, sb = row * ES_WORDS;
  int nki = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (nki <= 0) {
    if (tid == 0u) { norm[row] = 0.0; state[sb + ES_STATUS] = 2u; }
    return;
  }
  uint nk = uint(nki), nseg = (nk + pc.seg_keys - 1u) / pc.seg_keys, r = pc.r_int;
  // Total candidates (uint sum, fixed order per subgroup slot).
  uint t = 0u;
  for (uint s = tid; s < nseg; s += WG) t += seg_count[row * pc.nseg + s];
  t = subgroupAdd(t);
  if (tid == 0u) { total_sh = 0u; kstar = 0u; }
  barrier();
  if (subgroupElect()) atomicAdd(total_sh, t);  // integer: order-independent
  barrier();
  uint count = total_sh;
  if (tid == 0u) state[sb + ES_COUNT] = count;
  if (count > min(CAP, pc.sort_limit)) {
    if (tid == 0u) {
      // Only candidates carry weight, so f(tau) <= count (-tau)^r: tau* <= -count^(-1/r) (<= the
      // spec's -n^(-1/r)); tau* >= max y - 1 = -1.
      float lo = -1.0, hi = -pow(float(count), -pc.alpha_minus_1);
      state[sb + ES_LO] = floatBitsToUint(lo); state[sb + ES_A] = floatBitsToUint(lo);
      state[sb + ES_HI] = floatBitsToUint(hi); state[sb + ES_B] = floatBitsToUint(hi);
      state[sb + ES_STATUS] = 0u;
      if (pc.newton_steps != 0u) {  // integer maxima: the same result whichever rows write first
        atomicMax(newton_groups[0], nseg);
        atomicMax(newton_groups[1], gl_NumWorkGroups.x);
        atomicMax(newton_groups[2], gl_NumWorkGroups.y);
      }
    }
    return;  // uniform
  }
  // Gather, WG segments at a time: their counts are scanned in shared memory, then every thread
  // copies candidates of any segment (binary search over the offsets), loads batched so that many
  // are in flight (one segment after another would wait a global-memory latency per segment).
  uint placed = 0u;
  for (uint s0 = 0u; s0 < nseg; s0 += WG) {
    uint s = s0 + tid;
    uint c = s < nseg ? seg_count[row * pc.nseg + s] : 0u;
    uint before = subgroupExclusiveAdd(c), in_sg = subgroupAdd(c);
    if (subgroupElect()) chunk_cnt[gl_SubgroupID] = in_sg;
    barrier();
    uint off = placed + before;
    for (uint g = 0u; g < gl_SubgroupID; ++g) off += chunk_cnt[g];
    chunk_off[tid] = off;  // first slot of segment s0 + tid (non-decreasing in tid)
    barrier();
    uint last = chunk_off[WG - 1u] + (s0 + WG - 1u < nseg ? seg_count[row * pc.nseg + s0 + WG - 1u] : 0u);
    for (uint k0 = placed; k0 < last; k0 += 4u * WG) {
      float v[4];
      uint dst[4];
      for (uint u = 0u; u < 4u; ++u) {
        uint k = k0 + u * WG + tid;
        dst[u] = k < last ? k : CAP;
        if (k < last) {
          uint lo = 0u, hi = WG - 1u;  // last i with chunk_off[i] <= k
          while (lo < hi) {
            uint mid = (lo + hi + 1u) >> 1u;
            if (chunk_off[mid] <= k) lo = mid; else hi = mid - 1u;
          }
          v[u] = cand_g[base + (s0 + lo) * pc.seg_keys + (k - chunk_off[lo])];
        }
      }
      for (uint u = 0u; u < 4u; ++u)
        if (dst[u] < CAP) cand[dst[u]] = v[u];
    }
    placed = last;
    barrier();
  }
  float tau = sorted_tau(count, r);
  float z = 0.0;
  for (uint i = tid; i < count; i += WG) z += weight_of(cand[i], tau, r, 1.0);
  z = wg_sum(z);
  if (tid == 0u) {
    norm[row] = 1.0 / z;
    state[sb + ES_TAU] = floatBitsToUint(tau);
    state[sb + ES_SORTED] = 1u;
    state[sb + ES_STATUS] = 1u;
  }
}
