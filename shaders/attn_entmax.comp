#version 450
// Attention pass 2 for general alpha (entmax with r = 1/(alpha-1) not 1, 2 or 3), one workgroup per
// (row, head); sparsemax, alpha 1.5 and 4/3 take the exact split passes (attn_entmax_filter /
// threshold / apply). p_j = [y_j - tau]_+^(1/(alpha-1)) with y_j = (alpha-1) beta^2 (c_j - max c)
// (so max y = 0): tau by 40 bisection steps in the bracket [-1, -n^(1-alpha)] (docs/attention.md), then
// the weights are renormalised. Writes unnormalised p over the score row and 1/sum p to `norm`.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) restrict buffer S { float scores[]; };
layout(std430, binding = 2) readonly buffer CM { float chunk_max[]; };
layout(std430, binding = 3) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 4) writeonly buffer N { float norm[]; };
layout(push_constant) uniform P {
  uint H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size;
  float alpha_minus_1;
} pc;
#include "attention_common.glsl"
#include "reduce.glsl"
#include "entmax_common.glsl"

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
  float am1 = pc.alpha_minus_1, inv_am1 = 1.0 / am1;
  float yscale = am1 * head_scale[h];
  // Bisection on f(tau) = sum [y - tau]_+^(1/(alpha-1)) - 1, decreasing in tau (the row stays cosines
  // until the final pass: read-only loops keep many loads in flight).
  float lo = -1.0, hi = -pow(float(nk), -am1);
  for (uint it = 0u; it < 40u; ++it) {
    float mid = 0.5 * (lo + hi);
    float f = 0.0;
    for (uint j = tid; j < nk; j += WG) f += weight_of(yscale * (scores[base + j] - m), mid, 0u, inv_am1);
    f = wg_sum(f);
    if (f >= 1.0) lo = mid; else hi = mid;
  }
  float tau = 0.5 * (lo + hi);
  float z = 0.0;
  for (uint j = tid; j < nk; j += WG) {
    float e = weight_of(yscale * (scores[base + j] - m), tau, 0u, inv_am1);
    scores[base + j] = e;
    z += e;
  }
  z = wg_sum(z);
  if (tid == 0u) norm[row] = 1.0 / z;
}
