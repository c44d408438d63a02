#version 450
// Softmax attention, pass 2 of 2: o = sum_i partial_i · exp(beta^2 (m_i - M)) / sum_i z_i · exp(beta^2 (m_i - M))
// over the chunks i of one (row, head), M = max m_i; then o (+)= scale · out_scale[h] · o.
// Rows with no visible key produce 0.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer PO { float partial[]; };
layout(std430, binding = 2) readonly buffer ST { vec2 stats[]; };
layout(std430, binding = 3) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 4) readonly buffer OS { float out_scale[]; };
layout(std430, binding = 5) buffer O { float outv[]; };
layout(push_constant) uniform P {
  uint d, H, C, mask_offset, nkeys_fixed, row_base, chunk_keys, nchunks, flags;  // flags: 1 accumulate
  float scale;
} pc;
#include "attention_common.glsl"
#include "reduce.glsl"

void main() {
  uint h = gl_WorkGroupID.x, rl = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  uint nch = nk > 0 ? (uint(nk) + pc.chunk_keys - 1u) / pc.chunk_keys : 0u;
  uint row = rl * pc.H + h;
  float beta2 = head_scale[h];
  float M = NEG_INF;
  for (uint i = tid; i < nch; i += WG) M = max(M, stats[row * pc.nchunks + i].x);
  M = wg_max(M);
  float z = 0.0;
  for (uint i = tid; i < nch; i += WG) {
    vec2 st = stats[row * pc.nchunks + i];
    z += st.y * exp(beta2 * (st.x - M));
  }
  z = wg_sum(z);
  float f = nk > 0 ? out_scale[h] * pc.scale / z : 0.0;
  // Threads = (lane g, channel c): lanes split the chunks, then a shared reduction.
  uint G = max(WG / pc.d, 1u), g = tid / pc.d, c = tid % pc.d;
  float acc = 0.0;
  if (g < G) {
    // 8 chunks per step, all loaded before any is summed: one workgroup per (row, head) walks hundreds
    // of chunks at long contexts, and a load-then-add chain per chunk serialises their latencies.
    uint i = g;
    for (; i + 7u * G < nch; i += 8u * G) {
      vec2 st[8];
      float pv[8];
      for (uint u = 0u; u < 8u; ++u) {
        st[u] = stats[row * pc.nchunks + i + u * G];
        pv[u] = partial[(row * pc.nchunks + i + u * G) * pc.d + c];
      }
      for (uint u = 0u; u < 8u; ++u) acc += pv[u] * exp(beta2 * (st[u].x - M));
    }
    for (; i < nch; i += G) {
      vec2 st = stats[row * pc.nchunks + i];
      acc += partial[(row * pc.nchunks + i) * pc.d + c] * exp(beta2 * (st.x - M));
    }
  }
  reduce_slots[tid] = acc;
  barrier();
  if (tid < pc.d) {
    float s = 0.0;
    for (uint gg = 0u; gg < G; ++gg) s += reduce_slots[gg * pc.d + tid];
    uint o = (pc.row_base + rl) * pc.C + h * pc.d + tid;
    outv[o] = ((pc.flags & 1u) != 0u) ? outv[o] + f * s : f * s;
  }
}
