#version 450
// Split exact entmax (r = 1, 2, 3), pass 2 of 3: one workgroup per (row, head) finds tau exactly,
// without sorting.
//   f(t) = sum_j [y_j - t]_+^r is convex and decreasing on [-1, 0]; tau* solves f = 1, and only the
//   filter's candidates y > -1 can contribute (tau* >= max y - 1 = -1).
//   Each step evaluates, at one point t, the shifted moments c, S_k = sum_{y > t} (y - t)^k (k = 1..3)
//   and m = min {y > t}. If f(t) >= 1, t is a verified left point: the closed-form root tau_S of
//   sum_{y > t} (y - tau)^r = 1 on the set {y > t} is exact when tau_S <= m (every y > t is then in the
//   support, every other y <= t <= tau_S is not): the certificate. Otherwise a Newton step on
//   g = f^(1/r) - 1 (the r-norm of [y - t]_+: convex and decreasing too, and linear where the support
//   is a block of equal keys, so far fewer steps than Newton on f - 1 for flat rows) stays <= tau*,
//   so t rises and {y > t} shrinks. If rounding
//   puts t past tau* (f < 1), the root of the smaller set {y > t}, which is <= tau*, is the next point.
//   Cost: one pass over the surviving candidates per step; they are read from shared memory when they
//   fit (from the start, or compacted there after a step), else from the filter's segment lists, in
//   units of pc.unit candidates (the filter pads each list with -2 to whole units): one segment
//   lookup and pc.unit independent loads per unit, UNITS units in flight per thread.
//   All sums are in a fixed order and every thread takes the same decisions from the same totals.
// Then the support {y > tau}: the key indices of those candidates (the filter's index list), compacted
// in candidate order to the start of the row's index list, their number in the state, so the values
// pass visits the support only. flags & 1 also writes the weights [y - tau]_+^r over the score row
// (tests, diagnostics; the values pass then reads them instead of recomputing them).
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer CA { float cand_g[]; };
layout(std430, binding = 1) buffer CI { uint cand_index[]; };  // the index list from pc.index_offset
layout(std430, binding = 2) readonly buffer SC { uint seg_count[]; };
layout(std430, binding = 3) buffer ST { uint state[]; };
layout(std430, binding = 4) writeonly buffer N { float norm[]; };
layout(std430, binding = 5) buffer S { float scores[]; };
layout(std430, binding = 6) readonly buffer HS { float head_scale[]; };
layout(push_constant) uniform P {
  uint r_int, H, mask_offset, nkeys_fixed, row_base, s_stride, nseg, seg_keys, shared_limit, unit, index_offset;
  uint flags;  // 1: store the weights over the score row
  float alpha_minus_1;
} pc;
layout(constant_id = 1) const uint SHCAP = 4096;  // candidates held in shared memory
layout(constant_id = 2) const uint SEGMAX = 1024;  // filter segments per row (host-checked)
#include "attention_common.glsl"
#include "entmax_common.glsl"
#define MAX_STEPS 96u
shared float held[SHCAP];
shared uint seg_off[SEGMAX];  // first dense index of each segment (padded lists)
shared float red[5u * WG];
shared uint scan_tot[WG];

uint tid() { return gl_LocalInvocationID.x; }

// Where dense candidate i (segment order, padded lists) lies in the filter's lists: the last
// segment starting at or before i.
uint candidate_address(uint base, uint nseg, uint i) {
  uint lo = 0u, hi = nseg - 1u;
  while (lo < hi) {
    uint mid = (lo + hi + 1u) >> 1u;
    if (seg_off[mid] <= i) lo = mid; else hi = mid - 1u;
  }
  return base + lo * pc.seg_keys + (i - seg_off[lo]);
}

// The candidates of unit k (dense indices k * unit ..; a unit never spans two segments), -2 for
// the slots beyond pc.unit, and the unit's address in the lists.
const uint UMAX = 4u;   // most candidates per unit
const uint UNITS = 4u;  // units per thread in flight
uint load_unit(uint base, uint nseg, uint k, out float y[UMAX]) {
  uint a = candidate_address(base, nseg, k * pc.unit);
  [[unroll]] for (uint e = 0u; e < UMAX; ++e) y[e] = e < pc.unit ? cand_g[a + e] : -2.0;
  return a;
}

// Moments of one point, per thread: c, S1, S2, S3, min.
struct Moments { float c, s1, s2, s3, m; };

void add(inout Moments a, float y, float t) {
  if (y > t) {
    float d = y - t;
    a.c += 1.0; a.s1 += d; a.s2 += d * d; a.s3 += d * d * d; a.m = min(a.m, y);
  }
}

// Workgroup totals, the same in every thread (fixed order: subgroup, then subgroups in order).
Moments reduce_moments(Moments a) {
  float v[5] = float[5](subgroupAdd(a.c), subgroupAdd(a.s1), subgroupAdd(a.s2), subgroupAdd(a.s3), subgroupMin(a.m));
  if (subgroupElect())
    for (uint k = 0u; k < 5u; ++k) red[k * WG + gl_SubgroupID] = v[k];
  barrier();
  Moments t = Moments(0.0, 0.0, 0.0, 0.0, 1.0);
  for (uint g = 0u; g < gl_NumSubgroups; ++g) {
    t.c += red[g]; t.s1 += red[WG + g]; t.s2 += red[2u * WG + g]; t.s3 += red[3u * WG + g];
    t.m = min(t.m, red[4u * WG + g]);
  }
  barrier();
  return t;
}

// Root delta of sum (x - delta)^r = 1 over a fixed set with shifted moments (rho, a1, a2, a3):
// delta >= 0 when the sum at 0 is >= 1, < 0 otherwise.
float solve_set(uint r, float rho, float a1, float a2, float a3) {
  if (r == 1u) return (a1 - 1.0) / rho;
  if (r == 2u) return (a2 - 1.0) / (a1 + sqrt(max(a1 * a1 - rho * (a2 - 1.0), 0.0)));
  float d = 0.0;  // cubic: Newton, monotone after at most one step (convex, decreasing)
  for (uint it = 0u; it < 40u; ++it) {
    float g = a3 - 3.0 * d * a2 + 3.0 * d * d * a1 - rho * d * d * d - 1.0;
    float gp = -3.0 * (a2 - 2.0 * d * a1 + rho * d * d);
    float nd = gp < 0.0 ? d - g / gp : d;
    if (nd == d) break;
    d = nd;
  }
  return d;
}

// Exclusive prefix of `v` over the workgroup (thread order), and the total.
uvec2 scan_threads(uint v) {
  uint before = subgroupExclusiveAdd(v), in_sg = subgroupAdd(v);
  if (subgroupElect()) scan_tot[gl_SubgroupID] = in_sg;
  barrier();
  uint off = before, all = 0u;
  for (uint g = 0u; g < gl_NumSubgroups; ++g) {
    if (g < gl_SubgroupID) off += scan_tot[g];
    all += scan_tot[g];
  }
  barrier();
  return uvec2(off, all);
}

void main() {
  uint h = gl_WorkGroupID.x, rl = gl_WorkGroupID.y;
  uint row = rl * pc.H + h, base = row * pc.s_stride, sb = row * ES_WORDS, r = pc.r_int;
  int nki = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (nki <= 0) {
    if (tid() == 0u) { norm[row] = 0.0; state[sb + ES_STATUS] = 2u; }
    return;
  }
  uint nseg = (uint(nki) + pc.seg_keys - 1u) / pc.seg_keys;
  // Segment offsets (exclusive prefix of the filter's counts), WG segments at a time.
  uint count = 0u, padded = 0u;  // candidates; list slots (whole units)
  for (uint s0 = 0u; s0 < nseg; s0 += WG) {
    uint s = s0 + tid();
    uint n = s < nseg ? seg_count[row * pc.nseg + s] : 0u;
    uvec2 o = scan_threads((n + pc.unit - 1u) / pc.unit * pc.unit);
    if (s < nseg) seg_off[s] = padded + o.x;
    padded += o.y;
    count += scan_threads(n).y;
  }
  barrier();
  uint nunits = padded / pc.unit;
  uint held_n = 0u;  // candidates in shared memory (0: read the segment lists)
  bool fits = padded <= min(SHCAP, pc.shared_limit);
  if (fits) {
    for (uint k = tid(); k < nunits; k += WG) {
      float y[UMAX];
      load_unit(base, nseg, k, y);
      [[unroll]] for (uint e = 0u; e < UMAX; ++e)
        if (e < pc.unit) held[k * pc.unit + e] = y[e];
    }
    held_n = padded;
    barrier();
  }
  float a = -1.0, b = -pow(float(count), -1.0 / float(r));  // f(a) >= 1 >= f(b)
  float t = a, tau = a;
  bool done = false;
  uint steps = 0u;
  for (; steps < MAX_STEPS && !done; ++steps) {
    Moments p = Moments(0.0, 0.0, 0.0, 0.0, 1.0);
    uint mine = 0u;  // this thread's candidates above t (for the compaction below)
    if (held_n > 0u) {
      for (uint i = tid(); i < held_n; i += WG) add(p, held[i], t);
    } else {
      for (uint k0 = tid(); k0 < nunits; k0 += UNITS * WG) {  // UNITS * unit loads in flight
        float y[UNITS][UMAX];
        [[unroll]] for (uint u = 0u; u < UNITS; ++u) {
          uint k = k0 + u * WG;
          if (k < nunits) {
            load_unit(base, nseg, k, y[u]);
          } else {
            [[unroll]] for (uint e = 0u; e < UMAX; ++e) y[u][e] = -2.0;
          }
        }
        [[unroll]] for (uint u = 0u; u < UNITS; ++u)
          [[unroll]] for (uint e = 0u; e < UMAX; ++e) add(p, y[u][e], t);
      }
      mine = uint(p.c);
    }
    Moments q = reduce_moments(p);
    float f = r == 1u ? q.s1 : r == 2u ? q.s2 : q.s3;
    float fd = r == 1u ? q.c : r == 2u ? q.s1 : q.s2;  // -f'(t) / r = S_{r-1}
    float root = t + solve_set(r, q.c, q.s1, q.s2, q.s3);
    if (f >= 1.0) {
      a = t;
      // The certificate; f <= 2 keeps the closed form free of cancellation (t close to tau*). A
      // bracket of a few ulps means ties at tau* that float cannot separate: take the root anyway.
      bool tiny = b - a <= 4.8e-7 * max(abs(a), abs(b));
      // t - g / g' with g' = -f^(1/r - 1) S_{r-1}.
      float next = min(t + (f - pow(f, 1.0 - 1.0 / float(r))) / fd, b);
      if ((root <= q.m && f <= 2.0) || tiny || next <= t) {
        tau = root; done = true;
      } else {
        // Move the survivors {y > t} (all a later step can count) into shared memory once they fit.
        if (held_n == 0u && q.c <= float(min(SHCAP, pc.shared_limit))) {
          uint dst = scan_threads(mine).x;
          for (uint k = tid(); k < nunits; k += WG) {  // this thread's units, in the order counted
            float y[UMAX];
            load_unit(base, nseg, k, y);
            [[unroll]] for (uint e = 0u; e < UMAX; ++e)
              if (y[e] > t) held[dst++] = y[e];
          }
          held_n = uint(q.c);
          barrier();
        }
        t = next;
      }
    } else {
      // t overshot tau* (rounding): the root of the smaller set {y > t} is <= tau*.
      b = t;
      t = root > a && root < b ? root : 0.5 * (a + b);
    }
  }
  tau = done ? tau : a;
  // The support, CU consecutive units per thread per round (their loads in flight together). Each
  // index lands at or before the list address it came from, which this round (read before the
  // scan's barriers) or an earlier one has read.
  const uint CU = 4u;
  uint support = 0u;
  for (uint k0 = 0u; k0 < nunits; k0 += CU * WG) {
    float y[CU][UMAX];
    uint key[CU][UMAX], mine = 0u;
    [[unroll]] for (uint c = 0u; c < CU; ++c) {
      const uint k = k0 + tid() * CU + c;
      [[unroll]] for (uint e = 0u; e < UMAX; ++e) {
        y[c][e] = -2.0;
        key[c][e] = 0u;
      }
      if (k < nunits) {
        const uint addr = load_unit(base, nseg, k, y[c]);
        [[unroll]] for (uint e = 0u; e < UMAX; ++e)
          if (e < pc.unit) key[c][e] = cand_index[pc.index_offset + addr + e];
      }
    }
    [[unroll]] for (uint c = 0u; c < CU; ++c)
      [[unroll]] for (uint e = 0u; e < UMAX; ++e)
        if (y[c][e] > tau) ++mine;
    uvec2 o = scan_threads(mine);
    uint dst = pc.index_offset + base + support + o.x;
    [[unroll]] for (uint c = 0u; c < CU; ++c)
      [[unroll]] for (uint e = 0u; e < UMAX; ++e)
        if (y[c][e] > tau) cand_index[dst++] = key[c][e];
    support += o.y;
  }
  if ((pc.flags & 1u) != 0u) {
    const float m = uintBitsToFloat(state[sb + ES_MAX]), yscale = pc.alpha_minus_1 * head_scale[h];
    for (uint j = tid(); j < uint(nki); j += WG)
      scores[base + j] = weight_of(yscale * (scores[base + j] - m), tau, r, 1.0);
  }
  if (tid() == 0u) {
    state[sb + ES_TAU] = floatBitsToUint(tau);
    state[sb + ES_SUPPORT] = support;
    state[sb + ES_STATUS] = 1u;
    state[sb + ES_ITER] = steps;
    state[sb + ES_COUNT] = count;
    state[sb + ES_IN_SHARED] = fits ? 1u : 0u;
  }
}
