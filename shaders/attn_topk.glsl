// Attention pass 2 for top-K, one kernel per weighting (attn_topk_softmax.comp, attn_topk_uniform.comp):
// K rounds of a (value desc, index asc) arg-max find the K-th key; TOPK_WEIGHT(c, m) (m the row's largest
// cosine, beta2 in scope) weights the K largest cosines, 0 elsewhere.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) buffer S { float scores[]; };
layout(std430, binding = 2) readonly buffer CM { float chunk_max[]; };
layout(std430, binding = 3) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 4) writeonly buffer N { float norm[]; };
layout(push_constant) uniform P {
  uint H, mask_offset, nkeys_fixed, row_base, s_stride, nchunks, chunk_size, top_k;
} pc;
#include "attention_common.glsl"
#include "reduce.glsl"
shared float best_v[WG];
shared uint best_i[WG];

bool before(float va, uint ia, float vb, uint ib) { return va > vb || (va == vb && ia < ib); }

void main() {
  uint h = gl_WorkGroupID.x, rl = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h, base = row * pc.s_stride;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (nk <= 0) { if (tid == 0u) norm[row] = 0.0; return; }
  uint kk = min(pc.top_k, uint(nk));
  float prev_v = uintBitsToFloat(0x7f800000u);  // +inf: everything comes after it
  uint prev_i = 0xffffffffu;
  bool first = true;
  for (uint round = 0u; round < kk; ++round) {
    float bv = NEG_INF;
    uint bi = 0xffffffffu;
    for (uint j = tid; j < uint(nk); j += WG) {
      float c = scores[base + j];
      bool after_prev = first || before(prev_v, prev_i, c, j);
      if (after_prev && (bi == 0xffffffffu || before(c, j, bv, bi))) { bv = c; bi = j; }
    }
    best_v[tid] = bv; best_i[tid] = bi;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1u) {
      if (tid < s) {
        float ov = best_v[tid + s]; uint oi = best_i[tid + s];
        if (oi != 0xffffffffu && (best_i[tid] == 0xffffffffu || before(ov, oi, best_v[tid], best_i[tid]))) {
          best_v[tid] = ov; best_i[tid] = oi;
        }
      }
      barrier();
    }
    prev_v = best_v[0]; prev_i = best_i[0]; first = false;
    barrier();
  }
  float m = NEG_INF;
  for (uint i = tid; i < (uint(nk) + pc.chunk_size - 1u) / pc.chunk_size; i += WG)
    m = max(m, chunk_max[row * pc.nchunks + i]);
  m = wg_max(m);
  float beta2 = head_scale[h], z = 0.0;
  for (uint j = tid; j < uint(nk); j += WG) {
    float c = scores[base + j];
    bool sel = !before(prev_v, prev_i, c, j);  // (c, j) at or before the K-th
    float e = sel ? TOPK_WEIGHT(c, m) : 0.0;
    scores[base + j] = e;
    z += e;
  }
  z = wg_sum(z);
  if (tid == 0u) norm[row] = 1.0 / z;
}
