#version 450
// Attention pass 2 for the entmax family: p_j = [y_j - tau]_+^r with y_j = (alpha-1) beta^2 (c_j - max c)
// (so max y = 0), r = 1/(alpha-1). Writes unnormalised p over the score row and 1/sum p to `norm`.
//  * Exact sorted threshold for r = 1, 2, 3 (sparsemax, alpha 1.5, alpha 4/3): only y_j > -1 can be
//    in the support (tau >= max - 1); the candidates go to shared memory, are bitonic-sorted
//    descending, prefix-summed (S1, S2, S3), every prefix rho is tested in parallel and tau comes from
//    the closed form at the support size k* (docs/numerics.md, spec entmax.md).
//  * More candidates than CAP (flat rows, e.g. tens of thousands of keys with small beta): multi-pass
//    bisection over the score row in global memory finds the support, then the same closed form
//    gives the exact tau on it.
//  * General alpha (r_int = 0): bisection in the bracket [-1, -n^(1-alpha)], then renormalisation.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) restrict buffer S { float scores[]; };
layout(std430, binding = 2) readonly buffer CM { float chunk_max[]; };
layout(std430, binding = 3) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 4) writeonly buffer N { float norm[]; };
layout(push_constant) uniform P {
  uint r_int, H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size;
  float alpha_minus_1;  // 1/r for the exact kinds
} pc;
layout(constant_id = 2) const uint CAP = 1024;  // candidates held in shared memory (power of two)
#include "attention_common.glsl"
#include "reduce.glsl"
shared float cand[CAP];
shared float pre1[CAP];
shared float pre2[CAP];
shared float pre3[CAP];
shared float block_tot[3 * WG];
shared uint cand_count;
shared uint kstar;

float cbrt_pos(float v) { return v > 0.0 ? pow(v, 1.0 / 3.0) : 0.0; }

// tau of the prefix of size rho with moments S1..S3 of its y values, for r = 1, 2, 3.
float prefix_tau(uint r, float rho, float s1, float s2, float s3) {
  if (r == 1u) return (s1 - 1.0) / rho;
  float m1 = s1 / rho;
  if (r == 2u) {
    float ss = max(s2 - s1 * m1, 0.0);
    return m1 - sqrt(max(0.0, (1.0 - ss) / rho));
  }
  float v = max(s2 - rho * m1 * m1, 0.0);
  float w = s3 - 3.0 * m1 * s2 + 2.0 * rho * m1 * m1 * m1;
  float p = 3.0 * v / rho, q = (w - 1.0) / rho;
  if (p == 0.0 && q == 0.0) return m1;
  float a = cbrt_pos(abs(q) * 0.5 + sqrt(q * q * 0.25 + p * p * p / 27.0));
  float u = -sign(q) * (a - p / (3.0 * a));
  return m1 - u;
}

float weight_of(float y, float tau, uint r, float inv_am1) {
  float t = max(y - tau, 0.0);
  if (r == 1u) return t;
  if (r == 2u) return t * t;
  if (r == 3u) return t * t * t;
  return t > 0.0 ? pow(t, inv_am1) : 0.0;
}

void main() {
  uint h = gl_WorkGroupID.x, rl = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h, base = row * pc.s_stride;
  int nki = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (nki <= 0) { if (tid == 0u) norm[row] = 0.0; return; }
  uint nk = uint(nki);
  uint nch = (nk + pc.chunk_size - 1u) / pc.chunk_size;
  float m = NEG_INF;
  for (uint i = tid; i < nch; i += WG) m = max(m, chunk_max[row * pc.nchunks + i]);
  m = wg_max(m);
  uint r = pc.r_int;
  float am1 = pc.alpha_minus_1, inv_am1 = 1.0 / am1;
  float yscale = am1 * head_scale[h];

  // Collect the candidates y > -1 (the row stays cosines until the final pass: read-only loops keep
  // many loads in flight).
  if (tid == 0u) { cand_count = 0u; kstar = 0u; }
  barrier();
  for (uint j = tid; j < nk; j += WG) {
    float y = yscale * (scores[base + j] - m);
    if (y > -1.0) {
      uint slot = atomicAdd(cand_count, 1u);
      if (slot < CAP) cand[slot] = y;
    }
  }
  barrier();
  uint count = cand_count;
  float tau;
  if (r != 0u && count <= CAP) {
    uint p2 = 1u;
    while (p2 < count) p2 <<= 1u;
    for (uint i = count + tid; i < p2; i += WG) cand[i] = NEG_INF;
    barrier();
    for (uint kb = 2u; kb <= p2; kb <<= 1u) {
      for (uint jb = kb >> 1u; jb > 0u; jb >>= 1u) {
        for (uint i = tid; i < p2; i += WG) {
          uint l = i ^ jb;
          if (l > i) {
            float a = cand[i], b = cand[l];
            bool descending = (i & kb) == 0u;
            if (descending ? (a < b) : (a > b)) { cand[i] = b; cand[l] = a; }
          }
        }
        barrier();
      }
    }
    // Blocked prefix sums: each thread scans a contiguous block serially, then adds the block offsets.
    uint blk = (count + WG - 1u) / WG;
    uint b0 = min(tid * blk, count), b1 = min(b0 + blk, count);
    float a1 = 0.0, a2 = 0.0, a3 = 0.0;
    for (uint i = b0; i < b1; ++i) {
      float y = cand[i];
      a1 += y; a2 += y * y; a3 += y * y * y;
      pre1[i] = a1; pre2[i] = a2; pre3[i] = a3;
    }
    block_tot[tid] = a1; block_tot[WG + tid] = a2; block_tot[2u * WG + tid] = a3;
    barrier();
    if (tid == 0u) {
      float o1 = 0.0, o2 = 0.0, o3 = 0.0;
      for (uint t = 0u; t < WG; ++t) {
        float t1 = block_tot[t], t2 = block_tot[WG + t], t3 = block_tot[2u * WG + t];
        block_tot[t] = o1; block_tot[WG + t] = o2; block_tot[2u * WG + t] = o3;
        o1 += t1; o2 += t2; o3 += t3;
      }
    }
    barrier();
    for (uint i = b0; i < b1; ++i) {
      pre1[i] += block_tot[tid]; pre2[i] += block_tot[WG + tid]; pre3[i] += block_tot[2u * WG + tid];
    }
    barrier();
    for (uint i = tid; i < count; i += WG) {
      float rho = float(i + 1u);
      if (prefix_tau(r, rho, pre1[i], pre2[i], pre3[i]) < cand[i]) atomicMax(kstar, i + 1u);
    }
    barrier();
    uint k = max(kstar, 1u);
    tau = prefix_tau(r, float(k), pre1[k - 1u], pre2[k - 1u], pre3[k - 1u]);
  } else {
    // Multi-pass: bisection on f(tau) = sum [y - tau]_+^r - 1, decreasing in tau.
    float lo = -1.0, hi = -pow(float(nk), -am1);
    for (uint it = 0u; it < 40u; ++it) {
      float mid = 0.5 * (lo + hi);
      float f = 0.0;
      for (uint j = tid; j < nk; j += WG) f += weight_of(yscale * (scores[base + j] - m), mid, r, inv_am1);
      f = wg_sum(f);
      if (f >= 1.0) lo = mid; else hi = mid;
    }
    tau = 0.5 * (lo + hi);
    if (r != 0u) {
      // Exact threshold on the support the bisection found.
      float s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
      for (uint j = tid; j < nk; j += WG) {
        float y = yscale * (scores[base + j] - m);
        if (y > tau) { s0 += 1.0; s1 += y; s2 += y * y; s3 += y * y * y; }
      }
      s0 = wg_sum(s0); s1 = wg_sum(s1); s2 = wg_sum(s2); s3 = wg_sum(s3);
      if (s0 > 0.0) tau = prefix_tau(r, s0, s1, s2, s3);
    }
  }
  float z = 0.0;
  for (uint j = tid; j < nk; j += WG) {
    float e = weight_of(yscale * (scores[base + j] - m), tau, r, inv_am1);
    scores[base + j] = e;
    z += e;
  }
  z = wg_sum(z);
  if (tid == 0u) norm[row] = 1.0 / z;
}
