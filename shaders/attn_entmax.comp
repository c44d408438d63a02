#version 450
// Attention pass 2, one workgroup per (row, head). The host records it for general alpha only;
// sparsemax, alpha 1.5 and 4/3 take the split passes (attn_entmax_filter/threshold/newton/apply),
// the r = 1, 2, 3 branches below are the earlier single-workgroup form of those.
// p_j = [y_j - tau]_+^r with y_j = (alpha-1) beta^2 (c_j - max c) (so max y = 0), r = 1/(alpha-1).
// Writes unnormalised p over the score row and 1/sum p to `norm`.
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
#include "entmax_common.glsl"
#include "entmax_sort.glsl"
shared uint cand_count;

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
    tau = sorted_tau(count, r);
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
