#version 450
// Split exact entmax (r = 1, 2, 3), pass 3 of 3: e_j = [y_j - tau]_+^r over the score row in place,
// many workgroups per head (the value pass reads e_j and skips zeros), and norm = 1 / sum e_j over
// exactly the stored weights, so sum p = 1 up to one rounding even where y_j - tau cancels (a dense
// tail just above tau). The sum: per workgroup, then the last workgroup to finish (atomic ticket)
// adds the partial sums in a fixed order (deterministic). y_j is recomputed exactly as the filter
// computed it.
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
layout(std430, binding = 1) buffer S { float scores[]; };
layout(std430, binding = 2) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 3) coherent buffer ST { uint state[]; };
layout(std430, binding = 4) coherent buffer PA { float partial[]; };
layout(std430, binding = 5) writeonly buffer N { float norm[]; };
layout(push_constant) uniform P {
  uint r_int, H, mask_offset, nkeys_fixed, row_base, s_stride, keys_per_group, ngroups;
  float alpha_minus_1;
} pc;
layout(constant_id = 1) const uint KPT = 8;  // keys per thread: keys_per_group = WG * KPT
#include "attention_common.glsl"
#include "reduce.glsl"
#include "entmax_common.glsl"
shared uint last_group;

void main() {
  uint chunk = gl_WorkGroupID.x, h = gl_WorkGroupID.y, rl = gl_WorkGroupID.z, tid = gl_LocalInvocationID.x;
  uint row = rl * pc.H + h, base = row * pc.s_stride, sb = row * ES_WORDS;
  int nk = row_keys(rl, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  uint start = chunk * pc.keys_per_group;
  if (int(start) >= nk) return;  // uniform (rows without keys: norm 0 from the threshold pass)
  uint end = min(start + pc.keys_per_group, uint(nk));
  uint groups = (uint(nk) + pc.keys_per_group - 1u) / pc.keys_per_group;
  float m = uintBitsToFloat(state[sb + ES_MAX]), tau = uintBitsToFloat(state[sb + ES_TAU]);
  float yscale = pc.alpha_minus_1 * head_scale[h];
  // KPT keys per thread, all loaded before any is used (loads in flight), coalesced across threads.
  float z = 0.0, sv[KPT];
  for (uint k = 0u; k < KPT; ++k) {
    uint j = start + k * WG + tid;
    sv[k] = j < end ? scores[base + j] : 0.0;
  }
  for (uint k = 0u; k < KPT; ++k) {
    uint j = start + k * WG + tid;
    if (j < end) {
      float e = weight_of(yscale * (sv[k] - m), tau, pc.r_int, 1.0);
      scores[base + j] = e;
      z += e;
    }
  }
  z = wg_sum(z);
  if (tid == 0u) partial[row * pc.ngroups + chunk] = z;
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) last_group = atomicAdd(state[sb + ES_TICKET], 1u) == groups - 1u ? 1u : 0u;
  barrier();
  if (last_group == 0u) return;  // uniform
  memoryBarrierBuffer();
  // Every thread adds a strided subset (independent loads in flight), then a fixed-order tree.
  float s = 0.0;
  for (uint g = tid; g < groups; g += WG) s += partial[row * pc.ngroups + g];
  s = wg_sum(s);
  if (tid == 0u) {
    norm[row] = 1.0 / s;
    state[sb + ES_TICKET] = 0u;
  }
}
