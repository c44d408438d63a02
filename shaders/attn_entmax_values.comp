#version 450
// Split exact entmax (r = 1, 2, 3), pass 3 of 3, one dispatch: the weights e_j = [y_j - tau]_+^r
// of the support only (the threshold pass's compacted key indices; y_j recomputed from the score
// exactly as the filter computed it, or, with flags & 2, the weights the threshold pass stored over
// the score row), the value sums and the output. One workgroup per (chunk of the support list, head,
// row), chunks sized by chunk_keys_for (attention_common.glsl). Each chunk writes its partial
// sum_j e_j v_j and z = sum_j e_j to `work`; the last workgroup of a (row, head) (atomic ticket in the
// entmax state) adds them in chunk order (deterministic) and writes out (+)= scale · out_scale[h] ·
// sum partial / sum z: the weights are normalised by exactly their stored sum, so sum p = 1 up to
// one rounding even where y_j - tau cancels (a dense tail just above tau). flags & 2 also stores
// 1 / sum z in the state (tests, diagnostics). Eight buffers (V3DV's limit).
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) readonly buffer S { float scores[]; };
layout(std430, binding = 2) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 3) coherent buffer ST { uint state[]; };
#define KV_CACHE_SPEC_ID 1
#include "kv_cache.glsl"
KV_CACHE_BUFFER(4, readonly, V)
KV_CACHE_LOADS(V)
// work: partials [rows * H, max_chunks, d] at 0, chunk sums z at z_offset, the support lists (score
// row layout) at index_offset (words).
layout(std430, binding = 5) coherent buffer W { float work[]; };
layout(std430, binding = 5) coherent buffer W4 { vec4 work4[]; };
layout(std430, binding = 5) readonly buffer WI { uint support_index[]; };
layout(std430, binding = 6) readonly buffer OS { float out_scale[]; };
layout(std430, binding = 7) buffer O { float outv[]; };
layout(push_constant) uniform P {
  uint d, H, v_base, v_head_stride, v_key_stride, mask_offset, nkeys_fixed, row_base, s_stride, C;
  uint max_chunks, z_offset, index_offset, r_int, flags;  // flags: 1 accumulate into out, 2 weights stored
  float alpha_minus_1, scale;
} pc;
#include "attention_common.glsl"
#include "reduce.glsl"
#include "entmax_common.glsl"
shared vec4 red4[WG];
shared bool is_last;

const uint KEY_UNIT = 64u;  // chunks are whole multiples of this many support entries

void main() {
  uint chunk = gl_WorkGroupID.x, h = gl_WorkGroupID.y, rl = gl_WorkGroupID.z, tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h, base = row * pc.s_stride, sb = row * ES_WORDS;
  bool accumulate = (pc.flags & 1u) != 0u, store = (pc.flags & 2u) != 0u;
  int nki = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  if (nki <= 0) {  // uniform: no visible key, o = 0
    if (chunk == 0u && tid < pc.d && !accumulate) outv[(pc.row_base + rl) * pc.C + h * pc.d + tid] = 0.0;
    return;
  }
  const uint support = state[sb + ES_SUPPORT];
  uint ck = chunk_keys_for(support, KEY_UNIT, pc.max_chunks);
  uint nch = max(1u, (support + ck - 1u) / ck);
  if (chunk >= nch) return;  // uniform
  uint start = chunk * ck, end = min(start + ck, support);
  float m = uintBitsToFloat(state[sb + ES_MAX]), tau = uintBitsToFloat(state[sb + ES_TAU]);
  float yscale = pc.alpha_minus_1 * head_scale[h];
  const uint list = pc.index_offset + base;
  // Threads are (key lane g, channel quad c4); lane g's support entries are start + g + k G.
  uint D4 = pc.d / 4u, G = WG / D4, g = tid / D4, c4 = tid % D4;
  uint stride4 = pc.v_key_stride / 4u;
  vec4 acc0 = vec4(0.0), acc1 = vec4(0.0);
  float zl = 0.0;
  if (g < G) {
    uint vb = (pc.v_base + h * pc.v_head_stride) / 4u + c4;
    // Batches of 8 entries per lane: their 8 key indices, then the 8 scores, then the 8 values are
    // loaded together (independent loads in flight; a chain per key would serialise 3 latencies).
    for (uint p0 = start + g; p0 < end; p0 += 8u * G) {
      uint key[8];
      [[unroll]] for (uint u = 0u; u < 8u; ++u) {
        uint p = p0 + u * G;
        key[u] = p < end ? support_index[list + p] : 0u;
      }
      float e[8];
      [[unroll]] for (uint u = 0u; u < 8u; ++u) {
        uint p = p0 + u * G;
        float sv = p < end ? scores[base + key[u]] : 0.0;
        e[u] = p >= end ? 0.0 : store ? sv : weight_of(yscale * (sv - m), tau, pc.r_int, 1.0);
        if (c4 == 0u) zl += e[u];  // one thread per key
      }
      [[unroll]] for (uint u = 0u; u < 8u; u += 2u) {
        if (e[u] != 0.0) acc0 += e[u] * V_load4(vb + key[u] * stride4);
        if (e[u + 1u] != 0.0) acc1 += e[u + 1u] * V_load4(vb + key[u + 1u] * stride4);
      }
    }
  }
  float z = wg_sum(zl);
  red4[tid] = acc0 + acc1;
  barrier();
  uint slot = row * pc.max_chunks + chunk;
  if (tid < D4) {
    vec4 s = vec4(0.0);
    for (uint gg = 0u; gg < G; ++gg) s += red4[gg * D4 + tid];
    work4[slot * D4 + tid] = s;
  }
  if (tid == 0u) work[pc.z_offset + slot] = z;
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) is_last = atomicAdd(state[sb + ES_TICKET], 1u) == nch - 1u;
  barrier();
  if (!is_last) return;  // uniform: shared flag
  memoryBarrierBuffer();
  // Merge the chunks of (row, h): every thread a strided subset, then fixed-order trees.
  uint rbase = row * pc.max_chunks;
  float zz = 0.0;
  for (uint i = tid; i < nch; i += WG) zz += work[pc.z_offset + rbase + i];
  zz = wg_sum(zz);
  vec4 o = vec4(0.0);
  if (g < G) {
    uint i = g;
    for (; i + 7u * G < nch; i += 8u * G) {  // 8 chunks per step: loads in flight
      vec4 pv[8];
      [[unroll]] for (uint u = 0u; u < 8u; ++u) pv[u] = work4[(rbase + i + u * G) * D4 + c4];
      [[unroll]] for (uint u = 0u; u < 8u; ++u) o += pv[u];
    }
    for (; i < nch; i += G) o += work4[(rbase + i) * D4 + c4];
  }
  red4[tid] = o;
  barrier();
  if (tid < D4) {
    vec4 s = vec4(0.0);
    for (uint gg = 0u; gg < G; ++gg) s += red4[gg * D4 + tid];
    s *= out_scale[h] * pc.scale / zz;
    uint o = (pc.row_base + rl) * pc.C + h * pc.d + 4u * tid;
    for (uint k = 0u; k < 4u; ++k) outv[o + k] = accumulate ? outv[o + k] + s[k] : s[k];
  }
  if (tid == 0u) {
    if (store) state[sb + ES_NORM] = floatBitsToUint(1.0 / zz);
    state[sb + ES_TICKET] = 0u;
  }
}
