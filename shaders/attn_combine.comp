#version 450
// Attention pass 4: o[row, h*d + c] (+)= scale * out_scale[h] * norm[row, h] * sum over chunks.
// Rows with no visible key produce 0 (norm = 0). Threads are (chunk group g, channel c): G = WG / d
// groups each add a strided subset of the chunks (four loads in flight), then the G sums are added
// in group order (deterministic) — one thread per channel would wait one latency per 4 chunks.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer PO { float partial[]; };
layout(std430, binding = 2) readonly buffer N { float norm[]; };
layout(std430, binding = 3) readonly buffer OS { float out_scale[]; };
layout(std430, binding = 4) buffer O { float outv[]; };
layout(push_constant) uniform P {
  uint d, H, C, mask_offset, nkeys_fixed, row_base, chunk_keys, nchunks, flags;  // flags: 1 accumulate
  float scale;
} pc;
#include "attention_common.glsl"
shared float group_sum[WG];

void main() {
  uint h = gl_WorkGroupID.x, rl = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  uint nch = nk > 0 ? (uint(nk) + pc.chunk_keys - 1u) / pc.chunk_keys : 0u;
  uint row = rl * pc.H + h;
  uint G = WG / pc.d, g = tid / pc.d, c = tid % pc.d;  // host: d <= WG
  float s = 0.0;
  if (g < G) {
    uint b = row * pc.nchunks * pc.d + c, i = g;
    float s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (; i + 3u * G < nch; i += 4u * G) {
      s0 += partial[b + i * pc.d]; s1 += partial[b + (i + G) * pc.d];
      s2 += partial[b + (i + 2u * G) * pc.d]; s3 += partial[b + (i + 3u * G) * pc.d];
    }
    for (; i < nch; i += G) s0 += partial[b + i * pc.d];
    s = (s0 + s1) + (s2 + s3);
  }
  group_sum[tid] = s;
  barrier();
  if (tid < pc.d) {
    float t = 0.0;
    for (uint k = 0u; k < G; ++k) t += group_sum[k * pc.d + tid];
    float f = nk > 0 ? norm[row] * out_scale[h] * pc.scale : 0.0;
    uint o = (pc.row_base + rl) * pc.C + h * pc.d + tid;
    outv[o] = ((pc.flags & 1u) != 0u) ? outv[o] + f * t : f * t;
  }
}
