// Attention pass 2 of the ReLU transforms, one kernel each: attn_relumax.comp, attn_norm_relu.comp
// (softmax runs fused: attn_softmax_partial.comp, attn_softmax_combine.comp). Writes unnormalised weights
// e_j over the score row and 1/Z to `norm` (the value pass applies it). The including kernel defines,
// before including this file:
//   TRANSFORM_WEIGHT(c, m)  the weight of cosine c, m being the row's largest cosine; in scope are
//                           beta2 = head_scale[h] and ab = relu_params[h], the per-head (A, B)
//   TRANSFORM_NORM_RELU     1: 1/max(Z, 1e-6), and uniform weights when Z = 0
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) buffer S { float scores[]; };
layout(std430, binding = 2) readonly buffer CM { float chunk_max[]; };
layout(std430, binding = 3) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 4) readonly buffer RP { vec2 relu_params[]; };
layout(std430, binding = 5) writeonly buffer N { float norm[]; };
layout(push_constant) uniform P {
  uint H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size;
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
    float c = scores[base + j];
    float e = TRANSFORM_WEIGHT(c, m);
    scores[base + j] = e;
    z += e;
  }
  z = wg_sum(z);
#if TRANSFORM_NORM_RELU
  if (z == 0.0) {
    for (uint j = tid; j < uint(nk); j += WG) scores[base + j] = 1.0;
    if (tid == 0u) norm[row] = 1.0 / float(nk);
    return;
  }
  if (tid == 0u) norm[row] = 1.0 / max(z, 1e-6);
#else
  if (tid == 0u) norm[row] = 1.0 / z;
#endif
}
