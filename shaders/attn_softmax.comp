#version 450
// Attention pass 2 for the dense transforms. Writes unnormalised weights e_j over the score row and
// 1/Z to `norm` (the value pass applies it):
//   kind 0 softmax:   e = exp(beta^2 (c - max c))
//   kind 1 relumax:   e = relu(A (c - max c) + B)           (A = relu_scale·beta^2, B = relu_bias)
//   kind 2 norm_relu: e = relu(A (c - 1) + B), 1/max(Z, 1e-6); uniform when Z = 0
//                     (A = relu_scale·beta^2, B = relu_scale·beta^2 + relu_bias, formed in double on
//                     the host so the large terms cancel exactly: relu(2β²(c - 1) + 1) stays exact)
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) buffer S { float scores[]; };
layout(std430, binding = 2) readonly buffer CM { float chunk_max[]; };
layout(std430, binding = 3) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 4) readonly buffer RP { vec2 relu_params[]; };
layout(std430, binding = 5) writeonly buffer N { float norm[]; };
layout(push_constant) uniform P {
  uint kind, H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size;
} pc;
#include "attention_common.glsl"
#include "reduce.glsl"

void main() {
  uint h = gl_WorkGroupID.x, rl = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (nk <= 0) { if (tid == 0u) norm[row] = 0.0; return; }
  uint nch = (uint(nk) + pc.chunk_size - 1u) / pc.chunk_size;
  float m = NEG_INF;
  for (uint i = tid; i < nch; i += WG) m = max(m, chunk_max[row * pc.nchunks + i]);
  m = wg_max(m);
  float beta2 = head_scale[h];
  vec2 ab = relu_params[h];
  uint base = row * pc.s_stride;
  float z = 0.0;
  for (uint j = tid; j < uint(nk); j += WG) {
    float c = scores[base + j], e;
    if (pc.kind == 0u) e = exp(beta2 * (c - m));
    else if (pc.kind == 1u) e = max(ab.x * (c - m) + ab.y, 0.0);
    else e = max(ab.x * (c - 1.0) + ab.y, 0.0);
    scores[base + j] = e;
    z += e;
  }
  z = wg_sum(z);
  if (pc.kind == 2u && z == 0.0) {
    for (uint j = tid; j < uint(nk); j += WG) scores[base + j] = 1.0;
    if (tid == 0u) norm[row] = 1.0 / float(nk);
    return;
  }
  if (tid == 0u) norm[row] = (pc.kind == 2u) ? 1.0 / max(z, 1e-6) : 1.0 / z;
}
