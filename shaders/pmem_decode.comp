#version 450
// Persistent memory of one decode row (spec: always softmax) with its key projection, one dispatch
// per memory: shaders/pmem_softmax.comp's flash-decoding over the N slots, where each (chunk of WG
// slots, head) workgroup first forms its head's D query channels itself:
//   u = W_k[h D .. h D + D) x' (+ bias), x' = x or LayerNorm(x) (flag 4; matvec_core.glsl), one
//     subgroup per row, RB rows at a time so their weight loads are in flight together (the first
//     RB rows' during the LayerNorm statistics);
//   s = a s_prev + (1 - a) u (s_prev: the carried state), q = beta'^2 s / (||s|| + eps).
// This replaces the pmem_k mat-vec pass and its barrier: the D x C rows are read by every chunk of
// the head (from L2 after the first), the price of one dependent pass less per layer.
// Then as pmem_softmax.comp: compensated scores, chunk softmax, partial sums, the merge by the last
// workgroup of the head (atomic counter), which also stores s as the new state (flag 32; every
// workgroup of the head has read the old state before counting itself). Keys and values of the
// chunk are loaded at the start (all in flight, overlapping the projection).
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer W { uint w_raw[]; };
layout(std430, binding = 1) readonly buffer W16 { uvec4 w16[]; };
layout(std430, binding = 2) readonly buffer Prm { float prm[]; };  // pmem_params.glsl
layout(std430, binding = 2) readonly buffer Prm4 { vec4 prm4[]; };
layout(std430, binding = 3) buffer St { float state[]; };          // [C] leaky state before this row
layout(std430, binding = 4) readonly buffer MK { uvec4 mk[]; };    // [.., N, D] stored type
layout(std430, binding = 5) readonly buffer MV { uvec4 mv[]; };
layout(std430, binding = 6) buffer O { float outv[]; };  // [C]
// The scratch: partials [H, nchunks, D], then their (m, z), and the completion counters [H] from
// word pc.count_off.
layout(std430, binding = 7) coherent buffer PO { vec4 partial4[]; };
layout(std430, binding = 7) coherent buffer ST { vec2 part_stats[]; };
layout(std430, binding = 7) coherent buffer Cnt { uint head_count[]; };
layout(push_constant) uniform P {
  uint C, H, N, nchunks, slot_base, n, x_stride, x_offset, flags;
  // flags: 1 bias, 2 accumulate into out, 4 LN, 8 LN weight, 16 LN bias, 32 advance the state
  float ln_eps, eps, scale;
  uint count_off;
} pc;
#include "weights.glsl"
#include "pmem_params.glsl"
// pmem_k's row scales, bias and pmem_norm from the parameter buffer (K = C, C % 4 == 0 by the host).
#define W_SCALE(m) prm[m]
#define LN_W4(k4) prm4[KC / 2u + (k4)]
#define LN_B4(k4) prm4[(3u * KC) / 4u + (k4)]
#include "matvec_core.glsl"
#include "reduce.glsl"
#include "compensated.glsl"
layout(constant_id = 4) const uint STYPE = 0;  // slots: 0 F32, 1 F16, 2 I8 (per-slot scales)
layout(constant_id = 5) const uint D = 64;     // head size; D * slot element bytes % 16 == 0 (host)
layout(constant_id = 6) const uint L = 8;      // lanes per slot in the scores: a power of two <= the subgroup and KU (host)
const uint SEU = STYPE == 0u ? 4u : STYPE == 1u ? 8u : 16u;  // slot elements per 16-byte unit
const uint KU = D / SEU;                                     // units per slot
const uint UPR = (KU + L - 1u) / L;                          // key units per lane and round
const uint RB = 4u;                                          // projection rows per subgroup at a time
// Compile-time bounds of the per-lane arrays (host: KU <= 32 and VT <= 32). Every loop over them runs
// to such a bound with a guard on the specialised count: unrolled, the arrays are indexed by
// constants and stay in registers (loops bounded by specialisation constants left them in memory
// on the NVIDIA driver).
const uint MAX_UNITS = 32u;
shared float qs[D];
shared float cs[WG];
shared float es[WG];
shared vec4 red[WG * 4u];
shared bool is_last;

void unpack_unit(uvec4 p, out vec4 w[4]) {
  w[0] = w[1] = w[2] = w[3] = vec4(0.0);
  if (STYPE == 0u) {
    w[0] = uintBitsToFloat(p);
  } else if (STYPE == 1u) {
    w[0] = vec4(unpackHalf2x16(p.x), unpackHalf2x16(p.y));
    w[1] = vec4(unpackHalf2x16(p.z), unpackHalf2x16(p.w));
  } else {
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
      int q = int(p[i]);
      w[i] = vec4(bitfieldExtract(q, 0, 8), bitfieldExtract(q, 8, 8), bitfieldExtract(q, 16, 8),
                  bitfieldExtract(q, 24, 8));
    }
  }
}

// The first PF units per lane of rows i0 .. i0 + RB - 1 of head h (matvec_core.glsl raw_unit).
void load_rows(uint h, uint i0, out uvec4 pre[RB * PF]) {
  [[unroll]] for (uint b = 0u; b < RB; ++b) {
    [[unroll]] for (uint k = 0u; k < PF; ++k) {
      uint u = gl_SubgroupInvocationID + k * gl_SubgroupSize;
      pre[b * PF + k] = (i0 + b < D && u < UNITS) ? raw_unit(h * D + i0 + b, u) : uvec4(0u);
    }
  }
}

// u of head h into qs[0 .. D): subgroup g takes rows g RB .. g RB + RB - 1, then NS RB further.
// `pre`: the first rows' units, loaded before the LayerNorm statistics; later rows load theirs
// together at the start of their round.
void project(uint h, float mean, float rstd, uvec4 pre[RB * PF]) {
  const uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
  for (uint i0 = gl_SubgroupID * RB; i0 < D; i0 += gl_NumSubgroups * RB) {  // uniform per subgroup
    if (i0 != gl_SubgroupID * RB) load_rows(h, i0, pre);
    float acc[RB];
    [[unroll]] for (uint b = 0u; b < RB; ++b) acc[b] = 0.0;
    [[unroll]] for (uint k = 0u; k < PF; ++k) {
      uint u = lane + k * S;
      if (u < UNITS) {
        vec4 xs[4];
        decode_x_unit(u, mean, rstd, xs);
        [[unroll]] for (uint b = 0u; b < RB; ++b) {
          vec4 w[4];
          unpack_raw(pre[b * PF + k], w);
          add_unit_dot(acc[b], w, xs);
        }
      }
    }
    for (uint u = lane + PF * S; u < UNITS; u += S) {  // rows longer than PF units per lane
      vec4 xs[4];
      decode_x_unit(u, mean, rstd, xs);
      [[unroll]] for (uint b = 0u; b < RB; ++b) {
        if (i0 + b < D) {
          vec4 w[4];
          load_unit(h * D + i0 + b, u, w);
          add_unit_dot(acc[b], w, xs);
        }
      }
    }
    [[unroll]] for (uint b = 0u; b < RB; ++b) {
      float v = subgroupAdd(acc[b]);
      uint i = i0 + b, m = h * D + i;
      if (i < D && subgroupElect()) {
        v *= (WTYPE == 2u) ? W_SCALE(m) : 1.0;
        qs[i] = v + (((pc.flags & 1u) != 0u) ? prm[pc.C + m] : 0.0);
      }
    }
  }
}

// The value pass's threads = (group g, unit vun): G groups split the chunk's slots, VT slots each.
const uint G = WG / KU, VT = (WG + G - 1u) / G;

void main() {
  uint chunk = gl_WorkGroupID.x, h = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  const uint slot0 = pc.slot_base + h * pc.N + chunk * WG;
  const int nk = int(min(WG, pc.N - chunk * WG));
  const uint S = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
  // Scores' layout: L lanes per slot, `per` slots per subgroup and round, L rounds of WG / L slots.
  const uint per = S / L, sub = lane % L, slot_in = lane / L;
  // The chunk's key and value units, loaded first: their latency overlaps the projection.
  // kraw[f]: round f / UPR, unit f % UPR of this lane's slot.
  uvec4 kraw[MAX_UNITS];
  [[unroll]] for (uint f = 0u; f < MAX_UNITS; ++f) {
    if (f < L * UPR) {
      uint rd = f / UPR, k = f % UPR;
      uint jj = rd * (WG / L) + gl_SubgroupID * per + slot_in, un = sub + k * L;
      kraw[f] = (int(jj) < nk && un < KU) ? mk[(slot0 + jj) * KU + un] : uvec4(0u);
    }
  }
  const uint g = tid / KU, vun = tid % KU;
  uvec4 vraw[MAX_UNITS];
  [[unroll]] for (uint t = 0u; t < MAX_UNITS; ++t) {
    uint jj = g + t * G;
    if (t < VT) vraw[t] = (g < G && int(jj) < nk) ? mv[(slot0 + jj) * KU + vun] : uvec4(0u);
  }
  float a = pmem_decay(h), prev = tid < D ? state[h * D + tid] : 0.0;
  // The query: projection, leaky average, unit norm, beta'^2.
  uvec4 pre[RB * PF];
  load_rows(h, gl_SubgroupID * RB, pre);  // in flight during the LayerNorm statistics
  float mean[RT], rstd[RT];
  ln_statistics(0u, mean, rstd);  // pc.n == 1: subgroup reductions only
  project(h, mean[0], rstd[0], pre);
  barrier();
  float s = tid < D ? a * prev + (1.0 - a) * qs[tid] : 0.0;
  float norm = sqrt(wg_sum(s * s)) + pc.eps;  // its barriers order the qs reads before the writes
  if (tid < D) qs[tid] = pmem_query_scale(h) * (s / norm);
  barrier();
  // One unrolled walk over kraw: unit k of round rd = f / UPR; the round's sums start at k = 0 and
  // are merged and stored at k = UPR - 1 (subgroup-uniform: f is a constant of the unrolled code).
  precise float sum = 0.0, err = 0.0;
  [[unroll]] for (uint f = 0u; f < MAX_UNITS; ++f) {
    if (f < L * UPR) {
      uint rd = f / UPR, k = f % UPR;
      uint jj = rd * (WG / L) + gl_SubgroupID * per + slot_in, un = sub + k * L;
      bool valid = int(jj) < nk;
      if (k == 0u) {
        sum = 0.0;
        err = 0.0;
      }
      if (valid && un < KU) {
        vec4 w[4];
        unpack_unit(kraw[f], w);
        [[unroll]] for (uint i = 0u; i < 16u; ++i) {
          if (i < SEU) comp_fma(qs[un * SEU + i], w[i / 4u][i % 4u], sum, err);
        }
      }
      if (k == UPR - 1u) {
        comp_merge(L, sum, err);  // stays inside each slot's L lanes
        if (sub == 0u && jj < WG)
          cs[jj] = valid ? (sum + err) * (STYPE == 2u ? pmem_key_slot_scale(slot0 + jj) : 1.0) : NEG_INF;
      }
    }
  }
  barrier();
  float c = cs[tid];
  float m = wg_max(c);
  float e = int(tid) < nk ? exp(c - m) : 0.0;
  es[tid] = e * (STYPE == 2u && int(tid) < nk ? pmem_value_slot_scale(slot0 + tid) : 1.0);
  float z = wg_sum(e);  // its barriers also publish es[]
  vec4 acc[4];
  acc[0] = acc[1] = acc[2] = acc[3] = vec4(0.0);
  if (g < G) {
    [[unroll]] for (uint t = 0u; t < MAX_UNITS; ++t) {
      uint jj = g + t * G;
      if (t < VT && int(jj) < nk) {
        vec4 w[4];
        unpack_unit(vraw[t], w);
        [[unroll]] for (uint i = 0u; i < 4u; ++i)
          if (i < SEU / 4u) acc[i] += es[jj] * w[i];
      }
    }
  }
  [[unroll]] for (uint i = 0u; i < 4u; ++i) red[tid * 4u + i] = acc[i];
  barrier();
  uint row = h * pc.nchunks + chunk;
  const uint D4 = D / 4u;
  if (tid < D4) {
    uint unit = tid / (SEU / 4u), i = tid % (SEU / 4u);
    vec4 t = vec4(0.0);
    for (uint gg = 0u; gg < G; ++gg) t += red[(gg * KU + unit) * 4u + i];
    partial4[row * D4 + tid] = t;
  }
  const uint stats0 = pc.H * pc.nchunks * (D / 2u);  // vec2 index of the first statistics pair
  if (tid == 0u) part_stats[stats0 + row] = vec2(m, z);
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) is_last = atomicAdd(head_count[pc.count_off + h], 1u) == pc.nchunks - 1u;
  barrier();
  if (!is_last) return;  // uniform: shared flag
  memoryBarrierBuffer();
  uint rbase = h * pc.nchunks;
  float M = NEG_INF;
  for (uint i = tid; i < pc.nchunks; i += WG) M = max(M, part_stats[stats0 + rbase + i].x);
  M = wg_max(M);
  float zz = 0.0;
  for (uint i = tid; i < pc.nchunks; i += WG) {
    vec2 st = part_stats[stats0 + rbase + i];
    zz += st.y * exp(st.x - M);
  }
  zz = wg_sum(zz);
  const uint GQ = WG / D4;
  uint gq = tid / D4, c4 = tid % D4;
  vec4 acc4 = vec4(0.0);
  if (gq < GQ)
    for (uint i = gq; i < pc.nchunks; i += GQ)
      acc4 += partial4[(rbase + i) * D4 + c4] * exp(part_stats[stats0 + rbase + i].x - M);
  red[tid] = acc4;
  barrier();
  if (tid < D4) {
    vec4 o4 = vec4(0.0);
    for (uint gg = 0u; gg < GQ; ++gg) o4 += red[gg * D4 + tid];
    o4 *= pc.scale * pmem_value_scale(h) / zz;
    uint o = h * D + 4u * tid;
    for (uint k = 0u; k < 4u; ++k) outv[o + k] = ((pc.flags & 2u) != 0u) ? outv[o + k] + o4[k] : o4[k];
  }
  if ((pc.flags & 32u) != 0u && tid < D) state[h * D + tid] = s;  // every chunk has read the old state
  if (tid == 0u) head_count[pc.count_off + h] = 0u;
}
