#version 450
// Split exact entmax (r = 1, 2, 3), pass 3 of 4, recorded a fixed number of times: one bracketing
// step of the threshold over ALL candidates of a (row, head) when they did not fit shared memory.
// Exits at once when tau is final (status != 0: the sort in attn_entmax_threshold, or an earlier step).
//   f(tau) = sum_j [y_j - tau]_+^r is convex and decreasing; tau* solves f = 1 inside [lo, hi].
//   Each workgroup (one filter segment) evaluates, at P = 8 points tau_i evenly over [lo, hi], the
//   count c_i and the shifted moments S_k,i = sum_{y > tau_i} (y - tau_i)^k (k = 1..3; f = S_r).
//   The last workgroup to finish (atomic ticket) adds the partial sums in a fixed order
//   (deterministic) and takes the step: i* = last point with f >= 1, so tau* in [tau_i*, tau_i*+1];
//   a Newton step from tau_i* stays <= tau* (convexity), the secant to tau_i*+1 stays >= tau*.
//   Exactness certificate: c_i* == c_i*+1 means no candidate lies in (tau_i*, tau_i*+1], so the
//   support is exactly {y > tau_i*}; tau is then the closed-form root on that support from the
//   shifted moments (r = 1: linear, r = 2: cancellation-free quadratic root, r = 3: Newton on the
//   cubic, which converges monotonically from the left); norm = 1/sum on that support.
//   If the last recorded step is reached unconverged, that workgroup goes on alone (same step,
//   looping over every segment) until the certificate or an interval of a few ulps.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer CA { float cand[]; };
layout(std430, binding = 2) readonly buffer SC { uint seg_count[]; };
layout(std430, binding = 3) coherent buffer ST { uint state[]; };
layout(std430, binding = 4) coherent buffer PA { float partial[]; };
layout(std430, binding = 5) writeonly buffer N { float norm[]; };
layout(push_constant) uniform P {
  uint r_int, H, mask_offset, nkeys_fixed, row_base, s_stride, nseg, seg_keys, last;
} pc;
#include "attention_common.glsl"
#include "entmax_common.glsl"
#define NP 8u
#define NV 32u  // NP points x (count, S1, S2, S3)
shared float red[NV * WG];
shared float tot[NV];
shared uint flag;
float acc[NV];
float pts[NP];

float st_f(uint sb, uint w) { return uintBitsToFloat(state[sb + w]); }

void set_points(uint sb) {
  float lo = st_f(sb, ES_LO), hi = st_f(sb, ES_HI);
  for (uint i = 0u; i < NP; ++i) pts[i] = i + 1u == NP ? hi : lo + (hi - lo) * (float(i) / float(NP - 1u));
  for (uint k = 0u; k < NV; ++k) acc[k] = 0.0;
}

void add_point_sums(float y) {
  for (uint i = 0u; i < NP; ++i) {
    float t = y - pts[i];
    if (t > 0.0) {
      acc[4u * i] += 1.0; acc[4u * i + 1u] += t; acc[4u * i + 2u] += t * t; acc[4u * i + 3u] += t * t * t;
    }
  }
}

// Four candidates per round, loaded before any is used: loads in flight instead of one latency each.
void eval_segment(uint base, uint row, uint seg) {
  uint c = seg_count[row * pc.nseg + seg], src = base + seg * pc.seg_keys;
  for (uint k0 = gl_LocalInvocationID.x; k0 < c; k0 += 4u * WG) {
    float y[4];
    for (uint u = 0u; u < 4u; ++u) {
      uint k = k0 + u * WG;
      y[u] = k < c ? cand[src + k] : -2.0;  // -2: below every point, adds nothing
    }
    for (uint u = 0u; u < 4u; ++u) add_point_sums(y[u]);
  }
}

// acc of every thread -> tot (fixed order: subgroups, then subgroup slots).
void reduce_acc() {
  for (uint k = 0u; k < NV; ++k) {
    float v = subgroupAdd(acc[k]);
    if (subgroupElect()) red[k * WG + gl_SubgroupID] = v;
  }
  barrier();
  if (gl_LocalInvocationID.x < NV) {
    float s = 0.0;
    for (uint g = 0u; g < gl_NumSubgroups; ++g) s += red[gl_LocalInvocationID.x * WG + g];
    tot[gl_LocalInvocationID.x] = s;
  }
  barrier();
}

// Root delta >= 0 (or < 0 from the right) of sum (t - delta)^r = 1 on a fixed support with shifted
// moments a1..a3 and size rho; returns delta and the sum at it (for the norm).
vec2 solve_support(uint r, float rho, float a1, float a2, float a3) {
  if (r == 1u) { float d = (a1 - 1.0) / rho; return vec2(d, a1 - rho * d); }
  if (r == 2u) {
    float d = (a2 - 1.0) / (a1 + sqrt(max(a1 * a1 - rho * (a2 - 1.0), 0.0)));
    return vec2(d, a2 - 2.0 * d * a1 + rho * d * d);
  }
  float d = 0.0;
  for (uint it = 0u; it < 40u; ++it) {
    float g = a3 - 3.0 * d * a2 + 3.0 * d * d * a1 - rho * d * d * d - 1.0;
    float gp = -3.0 * (a2 - 2.0 * d * a1 + rho * d * d);
    float nd = gp < 0.0 ? d - g / gp : d;
    if (nd == d) break;
    d = nd;
  }
  return vec2(d, a3 - 3.0 * d * a2 + 3.0 * d * d * a1 - rho * d * d * d);
}

// One step from tot (tid 0). Returns true when tau is final.
bool finalize(uint row, uint sb, uint r) {
  float lo = st_f(sb, ES_LO), hi = st_f(sb, ES_HI), a = st_f(sb, ES_A), b = st_f(sb, ES_B);
  int is = -1;
  for (uint i = 0u; i < NP; ++i)
    if (tot[4u * i + r] >= 1.0) is = int(i);
  bool done = false;
  float tau = 0.0, zsum = 1.0;
  if (is < 0) {  // f(lo) < 1: lo overshot (rounding); tau* in [a, lo)
    hi = lo; b = lo; lo = a;
  } else {
    uint i = uint(is);
    float ti = pts[i], fi = tot[4u * i + r], ci = tot[4u * i];
    float fd = r == 1u ? ci : tot[4u * i + r - 1u];  // sum t^(r-1)
    float tj = i + 1u < NP ? pts[i + 1u] : b, fj = i + 1u < NP ? tot[4u * (i + 1u) + r] : 0.0;
    bool certified = i + 1u < NP && tot[4u * (i + 1u)] == ci;
    bool tiny = tj - ti <= 4.8e-7 * max(abs(ti), abs(tj));  // a few ulps: ties at tau*
    if ((certified || tiny) && fi <= 2.0) {  // fi <= 2: the moment solve has no cancellation
      vec2 dz = solve_support(r, ci, tot[4u * i + 1u], tot[4u * i + 2u], tot[4u * i + 3u]);
      tau = ti + dz.x; zsum = dz.y; done = true;
    } else {
      a = ti; b = tj;
      float newton = clamp(ti + (fi - 1.0) / (float(r) * fd), ti, tj);
      float secant = i + 1u < NP && fi > fj ? ti + (fi - 1.0) * (tj - ti) / (fi - fj) : tj;
      lo = newton; hi = clamp(secant, lo, tj);
    }
  }
  state[sb + ES_LO] = floatBitsToUint(lo); state[sb + ES_HI] = floatBitsToUint(hi);
  state[sb + ES_A] = floatBitsToUint(a); state[sb + ES_B] = floatBitsToUint(b);
  state[sb + ES_ITER] += 1u;
  if (done) {
    state[sb + ES_TAU] = floatBitsToUint(tau);
    norm[row] = 1.0 / zsum;
    state[sb + ES_STATUS] = 1u;
  }
  return done;
}

void main() {
  uint seg = gl_WorkGroupID.x, h = gl_WorkGroupID.y, rl = gl_WorkGroupID.z, tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h, sb = row * ES_WORDS, base = row * pc.s_stride, r = pc.r_int;
  if (state[sb + ES_STATUS] != 0u) return;  // uniform: tau final or no keys
  int nki = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  uint nseg = (uint(nki) + pc.seg_keys - 1u) / pc.seg_keys;
  if (seg >= nseg) return;
  set_points(sb);
  eval_segment(base, row, seg);
  reduce_acc();
  if (tid < NV) partial[(row * pc.nseg + seg) * NV + tid] = tot[tid];
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) flag = atomicAdd(state[sb + ES_TICKET], 1u) == nseg - 1u ? 1u : 0u;
  barrier();
  if (flag == 0u) return;  // uniform: not the last workgroup
  memoryBarrierBuffer();
  // Partial sums of every segment: each thread a strided subset of segments (32 independent loads
  // each), then the same fixed-order reduction as above.
  for (uint k = 0u; k < NV; ++k) acc[k] = 0.0;
  for (uint g = tid; g < nseg; g += WG)
    for (uint k = 0u; k < NV; ++k) acc[k] += partial[(row * pc.nseg + g) * NV + k];
  reduce_acc();
  if (tid == 0u) {
    state[sb + ES_TICKET] = 0u;
    flag = finalize(row, sb, r) ? 1u : 0u;
  }
  barrier();
  if (pc.last == 0u) return;
  // Last recorded step and still open: this workgroup continues alone over every segment.
  for (uint it = 0u; it < 64u && flag == 0u; ++it) {
    memoryBarrierBuffer();
    barrier();
    set_points(sb);
    for (uint s = 0u; s < nseg; ++s) eval_segment(base, row, s);
    reduce_acc();
    if (tid == 0u) flag = finalize(row, sb, r) ? 1u : 0u;
    barrier();
  }
  if (tid == 0u && flag == 0u) {  // not reached in practice: take the verified left point's support
    state[sb + ES_TAU] = state[sb + ES_A];
    state[sb + ES_STATUS] = 1u;
    norm[row] = 1.0;
  }
}
