#version 450
// Persistent memory for a prompt chunk (many rows) as tiled matrix products; the same result as
// pmem_softmax.comp (which serves decode, one row). One workgroup per (split of the N slots,
// head, tile of BR rows):
//   Q = the BR queries q = beta'^2 s / (||s|| + eps) (s: leaky average of u from the carried
//     state), in shared memory;
//   for each tile of BS slots of the split: S = Q K^T (compensated fp32 dot products, as in
//     pmem_softmax.comp: beta'^2 up to e^10 amplifies rounding), an online (flash-style) softmax
//     per row (running max m, rescale by e^(m_old - m_new)), O += P V.
// Each key and value is read once per BR rows instead of once per row. The splits' partials
// (O, m, z) go to the scratch; the last workgroup of a (row tile, head) merges them (atomic
// counter, as in pmem_softmax.comp), out (+)= scale · vscale[h] · o, and the last merge of a head
// advances the carried state (flag 2) from the copy the last row tile staged after the partials.
// Threads form a 16 x (WG / 16) grid: thread (tx, ty) owns rows ty + TY i (i < TM) and, in S,
// slots tx + 16 j (j < BS / 16), in O, channels tx + 16 j (j < D / 16). No subgroup operations:
// both flavours are the same code. WG, BR, BS come from the device's (profile's) limits
// (ops_pmem.cpp).
#include "common.glsl"
layout(constant_id = 1) const uint WTYPE = 0;
layout(constant_id = 2) const uint D = 64;   // head size, % 16 == 0 (host)
layout(constant_id = 3) const uint BR = 32;  // rows per workgroup, a multiple of WG / 16
layout(constant_id = 4) const uint BS = 64;  // slots per tile, % 16 == 0
layout(std430, binding = 0) readonly buffer U { float u[]; };  // [n, C] key projections
layout(std430, binding = 1) buffer St { float state[]; };      // [C] leaky state before this forward
layout(std430, binding = 2) readonly buffer Prm { float prm[]; };  // pmem_params.glsl
layout(std430, binding = 3) readonly buffer MK { uvec4 mk[]; };    // [.., N, D] stored type
layout(std430, binding = 4) readonly buffer MV { uvec4 mv[]; };
layout(std430, binding = 5) buffer O { float outv[]; };  // [n, C]
// The scratch: partials [n, H, nchunks, D] and after them the staged new state [H, D], then (m, z)
// [n, H, nchunks] from vec2 pc.stats_off, and
// the completion counters [row tiles * H] then [H] from word pc.count_off.
layout(std430, binding = 6) coherent buffer PO { float partial[]; };
layout(std430, binding = 6) coherent buffer ST { vec2 stats[]; };
layout(std430, binding = 6) coherent buffer Cnt { uint tile_count[]; };
layout(push_constant) uniform P {
  uint C, H, N, nchunks, slot_base, n, flags, split_slots;  // flags: 1 accumulate into out, 2 advance the state
  uint head_mask;  // bit h: this dispatch serves head h (heads >= 32 always; pmem_prefill_coopmat_nv.comp the others)
  float eps, scale;
  uint stats_off, count_off;
} pc;
#include "pmem_params.glsl"
const uint EU = WTYPE == 0u ? 4u : WTYPE == 1u ? 8u : 16u;  // elements per 16-byte unit
const uint KU = D / EU;                                       // units per slot
const uint TX = 16u, TY = WG / TX, TM = BR / TY, TN = BS / TX, TD = D / TX;
shared float qs[D * BR];     // [channel][row]
shared float kv[BS * D];     // keys [channel][slot], then values [slot][channel]
shared float ps[BR * BS];    // [row][slot]: weights (times the I8 value scale)
shared float part[BR * TX];  // per (row, tx): partial maxima, then partial sums
shared float row_max[BR];
shared float row_alpha[BR];
shared bool is_last;

// Unit `unit` of slot `slot` as EU/4 vec4s (unused entries 0).
void load_unit(bool values, uint slot, uint unit, out vec4 w[4]) {
  w[0] = w[1] = w[2] = w[3] = vec4(0.0);
  uvec4 p = values ? mv[slot * KU + unit] : mk[slot * KU + unit];
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

void main() {
  const uint split = gl_WorkGroupID.x, h = gl_WorkGroupID.y, tile = gl_WorkGroupID.z;
  if (h < 32u && ((pc.head_mask >> h) & 1u) == 0u) return;  // uniform: the other dispatch serves it
  const uint tid = gl_LocalInvocationID.x, tx = tid % TX, ty = tid / TX;
  const uint r0 = tile * BR;
  // Queries: the leaky average of each channel walked over the rows up to this tile's last. The
  // last row tile's walk (split 0) reaches row n: it stages the new state after the partials, for
  // the workgroup that stores it below (no second walk over all rows there).
  const uint state_stage = pc.n * pc.H * pc.nchunks * D;
  const bool stages_state = (pc.flags & 2u) != 0u && tile == gl_NumWorkGroups.z - 1u && split == 0u;
  for (uint c = tid; c < D; c += WG) {
    uint ch = h * D + c;
    float a = pmem_decay(h), s = state[ch];
    for (uint r = 0u; r < min(r0 + BR, pc.n); ++r) {
      s = a * s + (1.0 - a) * u[r * pc.C + ch];
      if (r >= r0) qs[c * BR + (r - r0)] = s;
    }
    for (uint r = max(pc.n, r0); r < r0 + BR; ++r) qs[c * BR + (r - r0)] = 0.0;
    if (stages_state) partial[state_stage + ch] = s;
  }
  barrier();
  if (tid < BR) {
    float ss = 0.0;
    for (uint c = 0u; c < D; ++c) ss += qs[c * BR + tid] * qs[c * BR + tid];
    row_max[tid] = pmem_query_scale(h) / (sqrt(ss) + pc.eps);  // the row's factor, until the slot loop starts
  }
  barrier();
  for (uint e = tid; e < D * BR; e += WG) qs[e] *= row_max[e % BR];
  barrier();
  if (tid < BR) row_max[tid] = NEG_INF;

  const uint first = split * pc.split_slots, last = min(pc.N, first + pc.split_slots);
  const uint slot0 = pc.slot_base + h * pc.N;  // slot index of this head's first key
  float acc[TM][TD], lsum[TM];
  for (uint i = 0u; i < TM; ++i) {
    lsum[i] = 0.0;
    for (uint j = 0u; j < TD; ++j) acc[i][j] = 0.0;
  }
  for (uint j0 = first; j0 < last; j0 += BS) {
    const uint nk = min(BS, last - j0);
    barrier();  // the previous tile's values and weights are consumed
    for (uint e = tid; e < BS * KU; e += WG) {
      uint jj = e / KU, unit = e % KU;
      vec4 w[4];
      if (jj < nk) {
        load_unit(false, slot0 + j0 + jj, unit, w);
      } else {
        w[0] = w[1] = w[2] = w[3] = vec4(0.0);
      }
      for (uint i = 0u; i < EU; ++i) kv[(unit * EU + i) * BS + jj] = w[i / 4u][i % 4u];
    }
    barrier();
    precise float sum[TM][TN], err[TM][TN];
    for (uint i = 0u; i < TM; ++i)
      for (uint j = 0u; j < TN; ++j) sum[i][j] = err[i][j] = 0.0;
    for (uint k = 0u; k < D; ++k) {
      float a[TM], b[TN];
      for (uint i = 0u; i < TM; ++i) a[i] = qs[k * BR + ty + TY * i];
      for (uint j = 0u; j < TN; ++j) b[j] = kv[k * BS + tx + TX * j];
      for (uint i = 0u; i < TM; ++i)
        for (uint j = 0u; j < TN; ++j) {
          precise float p = a[i] * b[j];
          precise float pe = fma(a[i], b[j], -p);  // exact product error
          precise float t = sum[i][j] + p;         // TwoSum(sum, p)
          precise float z = t - sum[i][j];
          err[i][j] += (sum[i][j] - (t - z)) + (p - z) + pe;
          sum[i][j] = t;
        }
    }
    float sc[TM][TN];
    for (uint i = 0u; i < TM; ++i)
      for (uint j = 0u; j < TN; ++j) {
        uint jj = tx + TX * j;
        sc[i][j] = jj < nk ? (sum[i][j] + err[i][j]) * (WTYPE == 2u ? pmem_key_slot_scale(slot0 + j0 + jj) : 1.0) : NEG_INF;
      }
    for (uint i = 0u; i < TM; ++i) {
      float m = NEG_INF;
      for (uint j = 0u; j < TN; ++j) m = max(m, sc[i][j]);
      part[(ty + TY * i) * TX + tx] = m;
    }
    barrier();  // also: every thread is done reading the keys
    if (tid < BR) {
      float m = row_max[tid];
      for (uint t = 0u; t < TX; ++t) m = max(m, part[tid * TX + t]);
      row_alpha[tid] = exp(row_max[tid] - m);  // 0 on the first tile (m_old = -inf)
      row_max[tid] = m;
    }
    for (uint e = tid; e < BS * KU; e += WG) {
      uint jj = e / KU, unit = e % KU;
      vec4 w[4];
      if (jj < nk) {
        load_unit(true, slot0 + j0 + jj, unit, w);
      } else {
        w[0] = w[1] = w[2] = w[3] = vec4(0.0);
      }
      for (uint i = 0u; i < EU; ++i) kv[jj * D + unit * EU + i] = w[i / 4u][i % 4u];
    }
    barrier();
    for (uint i = 0u; i < TM; ++i) {
      uint rr = ty + TY * i;
      float m = row_max[rr], alpha = row_alpha[rr], l = 0.0;
      for (uint j = 0u; j < TN; ++j) {
        uint jj = tx + TX * j;
        float p = jj < nk ? exp(sc[i][j] - m) : 0.0;
        l += p;
        ps[rr * BS + jj] = p * (WTYPE == 2u && jj < nk ? pmem_value_slot_scale(slot0 + j0 + jj) : 1.0);
      }
      lsum[i] = lsum[i] * alpha + l;
      for (uint j = 0u; j < TD; ++j) acc[i][j] *= alpha;
    }
    barrier();
    for (uint jj = 0u; jj < nk; ++jj) {
      float pv[TM], vv[TD];
      for (uint i = 0u; i < TM; ++i) pv[i] = ps[(ty + TY * i) * BS + jj];
      for (uint j = 0u; j < TD; ++j) vv[j] = kv[jj * D + tx + TX * j];
      for (uint i = 0u; i < TM; ++i)
        for (uint j = 0u; j < TD; ++j) acc[i][j] = fma(pv[i], vv[j], acc[i][j]);
    }
  }
  // This split's partials: O and (m, z) per row.
  barrier();
  for (uint i = 0u; i < TM; ++i) part[(ty + TY * i) * TX + tx] = lsum[i];
  barrier();
  for (uint i = 0u; i < TM; ++i) {
    uint rr = ty + TY * i, r = r0 + rr;
    if (r >= pc.n) continue;
    uint blk = (r * pc.H + h) * pc.nchunks + split;
    for (uint j = 0u; j < TD; ++j) partial[blk * D + tx + TX * j] = acc[i][j];
    if (tx == 0u) {
      float z = 0.0;
      for (uint t = 0u; t < TX; ++t) z += part[rr * TX + t];
      stats[pc.stats_off + blk] = vec2(row_max[rr], z);
    }
  }
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) is_last = atomicAdd(tile_count[pc.count_off + tile * pc.H + h], 1u) == gl_NumWorkGroups.x - 1u;
  barrier();
  if (!is_last) return;  // uniform: shared flag
  memoryBarrierBuffer();
  // Merge the splits of every row of the tile: o = sum_s O_s e^(m_s - M) / sum_s z_s e^(m_s - M).
  const uint nsplit = gl_NumWorkGroups.x;
  for (uint e = tid; e < BR * D; e += WG) {
    uint rr = e / D, c = e % D, r = r0 + rr;
    if (r >= pc.n) continue;
    uint base = (r * pc.H + h) * pc.nchunks;
    float M = NEG_INF;
    for (uint s = 0u; s < nsplit; ++s) M = max(M, stats[pc.stats_off + base + s].x);
    float z = 0.0, o = 0.0;
    for (uint s = 0u; s < nsplit; ++s) {
      vec2 st = stats[pc.stats_off + base + s];
      float f = exp(st.x - M);
      z += st.y * f;
      o += partial[(base + s) * D + c] * f;
    }
    float v = o * (pc.scale * pmem_value_scale(h) / z);
    uint idx = r * pc.C + h * D + c;
    outv[idx] = ((pc.flags & 1u) != 0u) ? outv[idx] + v : v;
  }
  if (tid == 0u) tile_count[pc.count_off + tile * pc.H + h] = 0u;
  if ((pc.flags & 2u) == 0u) return;
  // The state: once every row tile of this head has merged, nothing reads the old state any more.
  memoryBarrierBuffer();  // hands the staged state on along the counters
  barrier();
  if (tid == 0u) is_last = atomicAdd(tile_count[pc.count_off + gl_NumWorkGroups.z * pc.H + h], 1u) == gl_NumWorkGroups.z - 1u;
  barrier();
  if (!is_last) return;
  // The staged state: written before the last row tile counted itself, so visible here after the
  // counters (the same ordering as the partials the merges read).
  memoryBarrierBuffer();
  for (uint c = tid; c < D; c += WG) state[h * D + c] = partial[state_stage + h * D + c];
  if (tid == 0u) tile_count[pc.count_off + gl_NumWorkGroups.z * pc.H + h] = 0u;
}
