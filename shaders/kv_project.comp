#version 450
// The context memory's key and value projections and their finishing, one dispatch:
//   y = [W_k; W_v] LN(x) for the n fed rows (matvec_core.glsl; y is [n, 2C]: u | w), then, by the
//   last workgroup to finish the rows of a head group (atomic counter; the rows' writes are fenced
//   by memoryBarrierBuffer before counting and read back through the `coherent` y):
//   keys (group h < H): leaky average s_t = a s_{t-1} + (1 - a) u_t carried in the state, unit
//     normalised per head, written to the key cache row pos0 + r;
//   values (group H + h, peek/lag): v_j = vscale[h] ṽ_j / (||ṽ_j|| + eps), ṽ_j = (1 - c_h) w_{j+1} +
//     c_h w_j for j = pos0 - 1 + r; w_{pos0-1} is carried in the state.
// This replaces a separate finishing dispatch and its barrier per layer. Counters return to 0.
// Flag 32 (prompt chunks): y already holds the projections (the tiled matrix product ran before,
// ops_dense.cpp); workgroup g finishes head group g, no counting (one workgroup finishing many
// groups of a long chunk runs thousands of barriers in a row, past what llvmpipe executes).
#include "common.glsl"
#define KV_CACHE_SPEC_ID 4
#include "kv_cache.glsl"
layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer W { uint w_raw[]; };
layout(std430, binding = 1) readonly buffer W16 { uvec4 w16[]; };
layout(std430, binding = 2) readonly buffer S { float w_scale[]; };
layout(std430, binding = 3) readonly buffer B { float bias[]; };
layout(std430, binding = 4) coherent buffer Y { float y[]; };  // [n, 2C]
layout(std430, binding = 5) readonly buffer LW { vec4 ln_w4[]; };
layout(std430, binding = 6) readonly buffer LB { vec4 ln_b4[]; };
TESSERA_STEP_BUFFER(7)
layout(std430, binding = 8) buffer St { float states[]; };  // key state [C], (unused) [C], w_{pos0-1} [C]
layout(std430, binding = 9) readonly buffer Dc { float decay[]; };
KV_CACHE_BUFFER(10, , KC)
layout(std430, binding = 11) readonly buffer Mx { float mixc[]; };
layout(std430, binding = 12) readonly buffer Vs { float vscale[]; };
KV_CACHE_BUFFER(13, , VC)
layout(std430, binding = 14) coherent buffer Cnt { uint group_count[]; };  // [2H]
layout(push_constant) uniform P {
  uint M, n, x_stride, x_offset, flags;  // M = 2C; flags: 1 bias, 4 LN, 8 LN weight, 16 LN bias, 32 projected
  float ln_eps;
  uint d;
  float eps;
} pc;
#include "weights.glsl"
#include "matvec_core.glsl"
#include "reduce.glsl"
KV_CACHE_STORE(KC)
KV_CACHE_STORE(VC)
shared bool is_last;

void finish_keys(uint h, uint i, bool live) {
  uint C = pc.M / 2u, c = h * pc.d + i;
  float a = decay[h], s = live ? states[c] : 0.0;
  for (uint r = 0u; r < pc.n; ++r) {
    if (live) s = a * s + (1.0 - a) * y[r * pc.M + c];
    float norm = sqrt(wg_sum(live ? s * s : 0.0)) + pc.eps;
    if (live) KC_store((step.pos0 + r) * C + c, s / norm);
  }
  if (live) states[c] = s;
}

void finish_values(uint h, uint i, bool live) {
  uint C = pc.M / 2u, c = h * pc.d + i;
  float mix = mixc[h], sc = vscale[h];
  float prev = live ? states[2u * C + c] : 0.0;
  for (uint r = 0u; r < pc.n; ++r) {
    float cur = live ? y[r * pc.M + C + c] : 0.0;
    int j = int(step.pos0) - 1 + int(r);
    if (j >= 0) {  // uniform: the first token's value waits for the second token
      float v = (1.0 - mix) * cur + mix * prev;
      float norm = sqrt(wg_sum(v * v)) + pc.eps;
      if (live) VC_store(uint(j) * C + c, sc * (v / norm));
    }
    prev = cur;
  }
  if (live) states[2u * C + c] = prev;
}

void main() {
  const uint RPG = gl_NumSubgroups;  // output rows per workgroup
  uint m = gl_WorkGroupID.x * RPG + gl_SubgroupID;
  uint r0 = gl_WorkGroupID.y * RT;
  float mean[RT], rstd[RT], acc[RT];
  if ((pc.flags & 32u) != 0u) {  // uniform
    uint g = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x, H = pc.M / (2u * pc.d);
    bool live = tid < pc.d;  // WG >= d (host)
    if (g < H) finish_keys(g, tid, live);
    else finish_values(g - H, tid, live);
    return;
  }
  ln_statistics(r0, mean, rstd);  // the whole workgroup
  if (m < pc.M) {  // uniform per subgroup
    matvec_dots(m, r0, mean, rstd, acc);
    float b = ((pc.flags & 1u) != 0u) ? bias[m] : 0.0;
    for (uint r = 0u; r < RT; ++r)
      if (subgroupElect() && r0 + r < pc.n) y[(r0 + r) * pc.M + m] = acc[r] + b;
  }
  memoryBarrierBuffer();
  barrier();
  // Head groups of d rows this workgroup touched (several when d < RPG).
  uint tid = gl_LocalInvocationID.x, H = pc.M / (2u * pc.d);
  uint first = gl_WorkGroupID.x * RPG, last = min(first + RPG, pc.M) - 1u;
  for (uint g = first / pc.d; g <= last / pc.d; ++g) {  // uniform
    if (tid == 0u) {
      uint wg_first = (g * pc.d) / RPG, wg_last = ((g + 1u) * pc.d - 1u) / RPG;
      uint expected = (wg_last - wg_first + 1u) * gl_NumWorkGroups.y;
      is_last = atomicAdd(group_count[g], 1u) == expected - 1u;
    }
    barrier();
    if (is_last) {  // uniform: shared
      memoryBarrierBuffer();
      bool live = tid < pc.d;  // WG >= d (host)
      if (g < H) finish_keys(g, tid, live);
      else finish_values(g - H, tid, live);
      if (tid == 0u) group_count[g] = 0u;
    }
    barrier();
  }
}
