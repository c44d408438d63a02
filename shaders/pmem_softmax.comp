#version 450
// Persistent memory (spec: always softmax) as one dispatch: flash-decoding over the N slots with
// the merge done by the last workgroup to finish. One workgroup per (chunk of WG slots, head, row):
//   q = beta'^2 s / (||s|| + eps), s = the leaky average of the key projections u up to this row,
//     recomputed here from the carried state (d values per head, a few FMAs per row): this replaces
//     a leaky-key dispatch and its barrier.
//   c_j = q · M_k[j] (compensated fp32 sums, like cosine.glsl: beta'^2 up to e^10 amplifies
//     rounding), m = max c_j, e_j = exp(c_j - m), z = sum e_j, partial = sum e_j M_v[j].
// The last workgroup of a (row, head) (atomic counter) merges the chunks: o = sum_i partial_i
// e^(m_i - M) / sum_i z_i e^(m_i - M), out (+)= scale · vscale[h] · o; this replaces a combine
// dispatch and its barrier. The last merge of a head (a second counter, over the rows) advances
// the carried state (flag 2): by then every workgroup of that head has read the old state.
// Partials are written, fenced (memoryBarrierBuffer) and then counted; the merging workgroup
// fences again before reading them through `coherent` buffers. Counters return to 0.
// Slots stay in their stored type (specialization constant 1: F32, F16, or I8 with one scale per
// slot), read in 16-byte units: F16 slots halve the largest per-token read of the model.
#include "common.glsl"
layout(constant_id = 1) const uint WTYPE = 0;
layout(constant_id = 2) const uint D = 64;  // head size; D * element bytes % 16 == 0 (host)
layout(std430, binding = 0) readonly buffer U { float u[]; };  // [n, C] key projections
layout(std430, binding = 1) buffer St { float state[]; };      // [C] leaky state before this forward
layout(std430, binding = 2) readonly buffer Prm { float prm[]; };  // pmem_params.glsl
layout(std430, binding = 3) readonly buffer MK { uvec4 mk[]; };    // [.., N, D] stored type
layout(std430, binding = 4) readonly buffer MV { uvec4 mv[]; };
layout(std430, binding = 5) buffer O { float outv[]; };  // [n, C]
// The scratch: partials [n, H, nchunks, D], then (m, z) [n, H, nchunks] from vec2 pc.stats_off, and
// the completion counters [rows * H] then [H] from word pc.count_off.
layout(std430, binding = 6) coherent buffer PO { vec4 partial4[]; };
layout(std430, binding = 6) coherent buffer ST { vec2 stats[]; };
layout(std430, binding = 6) coherent buffer Cnt { uint row_count[]; };
layout(push_constant) uniform P {
  uint C, H, N, nchunks, slot_base, n, flags;  // flags: 1 accumulate into out, 2 advance the state
  float eps, scale;
  uint stats_off, count_off;
} pc;
#include "pmem_params.glsl"
#include "reduce.glsl"
const uint EU = WTYPE == 0u ? 4u : WTYPE == 1u ? 8u : 16u;  // elements per 16-byte unit
const uint KU = D / EU;                                       // units per slot
shared float qs[D];
shared float cs[WG];
shared float es[WG];
shared vec4 red[WG * 4u];
shared bool is_last;

// A 16-byte unit of a slot as EU/4 vec4s (unused entries 0).
void unpack_unit(uvec4 p, out vec4 w[4]) {
  w[0] = w[1] = w[2] = w[3] = vec4(0.0);
  if (WTYPE == 0u) {
    w[0] = uintBitsToFloat(p);
  } else if (WTYPE == 1u) {
    w[0] = vec4(unpackHalf2x16(p.x), unpackHalf2x16(p.y));
    w[1] = vec4(unpackHalf2x16(p.z), unpackHalf2x16(p.w));
  } else {
    for (uint i = 0u; i < 4u; ++i) {
      int q = int(p[i]);
      w[i] = vec4(bitfieldExtract(q, 0, 8), bitfieldExtract(q, 8, 8), bitfieldExtract(q, 16, 8),
                  bitfieldExtract(q, 24, 8));
    }
  }
}

void load_key(uint slot, uint unit, out vec4 w[4]) { unpack_unit(mk[slot * KU + unit], w); }

// The value pass's threads = (group g, unit vun): G groups split the chunk's slots, VT slots each.
const uint G = WG / KU, VT = (WG + G - 1u) / G;

void main() {
  uint chunk = gl_WorkGroupID.x, h = gl_WorkGroupID.y, rl = gl_WorkGroupID.z, tid = gl_LocalInvocationID.x;
  const uint slot0 = pc.slot_base + h * pc.N + chunk * WG;  // slot index of this chunk's first key
  const int nk = int(min(WG, pc.N - chunk * WG));
  // The value units this thread will weigh, loaded first: their memory latency overlaps the query
  // and the scores instead of following the softmax.
  const uint g = tid / KU, vun = tid % KU;
  uvec4 vraw[VT];
  for (uint t = 0u; t < VT; ++t) {
    uint jj = g + t * G;
    vraw[t] = (g < G && int(jj) < nk) ? mv[(slot0 + jj) * KU + vun] : uvec4(0u);
  }
  // The query of row rl (WG >= D, checked by the host).
  float s = 0.0;
  if (tid < D) {
    uint c = h * D + tid;
    float a = pmem_decay(h);
    s = state[c];
    for (uint r = 0u; r <= rl; ++r) s = a * s + (1.0 - a) * u[r * pc.C + c];
  }
  float norm = sqrt(wg_sum(s * s)) + pc.eps;
  if (tid < D) qs[tid] = pmem_query_scale(h) * (s / norm);
  barrier();
  // Scores: L lanes per slot (a power of two <= the subgroup), each summing whole units.
  const uint S = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
  const uint L = 1u << findMSB(max(1u, min(S, KU)));
  const uint per = S / L, sub = lane % L, slot_in = lane / L;
  const uint round_keys = gl_NumSubgroups * per;
  for (uint base = 0u; base < WG; base += round_keys) {  // a compile-time count: unrolled, loads in flight
    uint jj0 = base + gl_SubgroupID * per;
    uint jj = jj0 + slot_in;
    bool valid = int(jj) < nk;
    precise float sum = 0.0, err = 0.0;
    if (valid) {
      for (uint un = sub; un < KU; un += L) {
        vec4 w[4];
        load_key(slot0 + jj, un, w);
        for (uint i = 0u; i < EU; ++i) {
          precise float a = qs[un * EU + i], b = w[i / 4u][i % 4u];
          precise float p = a * b;
          precise float pe = fma(a, b, -p);  // exact product error
          precise float t = sum + p;          // TwoSum(sum, p)
          precise float z = t - sum;
          err += (sum - (t - z)) + (p - z) + pe;
          sum = t;
        }
      }
    }
    for (uint off = L >> 1u; off > 0u; off >>= 1u) {  // stays inside each slot's L lanes
      precise float os = subgroupShuffleXor(sum, off);
      precise float oe = subgroupShuffleXor(err, off);
      precise float t = sum + os;
      precise float z = t - sum;
      err = err + oe + ((sum - (t - z)) + (os - z));
      sum = t;
    }
    if (sub == 0u && jj < WG) cs[jj] = valid ? (sum + err) * (WTYPE == 2u ? pmem_key_slot_scale(slot0 + jj) : 1.0) : NEG_INF;
  }
  barrier();
  float c = cs[tid];
  float m = wg_max(c);
  float e = int(tid) < nk ? exp(c - m) : 0.0;
  es[tid] = e * (WTYPE == 2u && int(tid) < nk ? pmem_value_slot_scale(slot0 + tid) : 1.0);
  float z = wg_sum(e);  // its barriers also publish es[]
  // Values (prefetched in vraw).
  vec4 acc[4];
  acc[0] = acc[1] = acc[2] = acc[3] = vec4(0.0);
  if (g < G) {
    for (uint t = 0u; t < VT; ++t) {
      uint jj = g + t * G;
      if (int(jj) < nk) {
        vec4 w[4];
        unpack_unit(vraw[t], w);
        for (uint i = 0u; i < EU / 4u; ++i) acc[i] += es[jj] * w[i];
      }
    }
  }
  for (uint i = 0u; i < 4u; ++i) red[tid * 4u + i] = acc[i];
  barrier();
  uint row = (rl * pc.H + h) * pc.nchunks + chunk;
  if (tid < D / 4u) {  // channel quad tid = unit tid / (EU/4), vec4 tid % (EU/4)
    uint unit = tid / (EU / 4u), i = tid % (EU / 4u);
    vec4 t = vec4(0.0);
    for (uint gg = 0u; gg < G; ++gg) t += red[(gg * KU + unit) * 4u + i];
    partial4[row * (D / 4u) + tid] = t;
  }
  if (tid == 0u) stats[pc.stats_off + row] = vec2(m, z);
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) is_last = atomicAdd(row_count[pc.count_off + rl * pc.H + h], 1u) == pc.nchunks - 1u;
  barrier();
  if (!is_last) return;  // uniform: shared flag
  memoryBarrierBuffer();
  // Merge the chunks of (rl, h).
  uint rbase = (rl * pc.H + h) * pc.nchunks;
  float M = NEG_INF;
  for (uint i = tid; i < pc.nchunks; i += WG) M = max(M, stats[pc.stats_off + rbase + i].x);
  M = wg_max(M);
  float zz = 0.0;
  for (uint i = tid; i < pc.nchunks; i += WG) {
    vec2 st = stats[pc.stats_off + rbase + i];
    zz += st.y * exp(st.x - M);
  }
  zz = wg_sum(zz);
  // Threads = (group gq, channel quad c4): groups split the chunks, then a shared reduction.
  const uint D4 = D / 4u, GQ = WG / D4;
  uint gq = tid / D4, c4 = tid % D4;
  vec4 acc4 = vec4(0.0);
  if (gq < GQ)
    for (uint i = gq; i < pc.nchunks; i += GQ) acc4 += partial4[(rbase + i) * D4 + c4] * exp(stats[pc.stats_off + rbase + i].x - M);
  red[tid] = acc4;
  barrier();
  if (tid < D4) {
    vec4 o4 = vec4(0.0);
    for (uint gg = 0u; gg < GQ; ++gg) o4 += red[gg * D4 + tid];
    o4 *= pc.scale * pmem_value_scale(h) / zz;
    uint o = rl * pc.C + h * D + 4u * tid;
    for (uint k = 0u; k < 4u; ++k) outv[o + k] = ((pc.flags & 1u) != 0u) ? outv[o + k] + o4[k] : o4[k];
  }
  if (tid == 0u) row_count[pc.count_off + rl * pc.H + h] = 0u;
  if ((pc.flags & 2u) == 0u) return;
  // The state: once every row of this head has merged, nothing reads the old state any more.
  barrier();
  if (tid == 0u) is_last = atomicAdd(row_count[pc.count_off + gl_NumWorkGroups.z * pc.H + h], 1u) == pc.n - 1u;
  barrier();
  if (!is_last) return;
  if (tid < D) {
    uint ch = h * D + tid;
    float a = pmem_decay(h), st = state[ch];
    for (uint r = 0u; r < pc.n; ++r) st = a * st + (1.0 - a) * u[r * pc.C + ch];
    state[ch] = st;
  }
  if (tid == 0u) row_count[pc.count_off + gl_NumWorkGroups.z * pc.H + h] = 0u;
}
