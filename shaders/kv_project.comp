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
// ops_dense.cpp); workgroup (g, c) finishes rows [c CR, (c + 1) CR) of head group g, so the rows'
// normalisations run in parallel instead of one after another. A key chunk starts from its carry,
// the leaky state before its first row: the recurrence replayed per channel from the carried state
// over the earlier rows (one fma a row, no reduction; the same operations in the same order as
// one workgroup walking every row). A value chunk needs only
// the projection of the row before it. Every workgroup reads the carried state before counting
// itself done; the last one of a group (atomic counter) stores the forward's final state.
#include "common.glsl"
#define KV_CACHE_SPEC_ID 4
#include "kv_cache.glsl"
layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer W { uint w_raw[]; };
layout(std430, binding = 1) readonly buffer W16 { uvec4 w16[]; };
// The layer's small vectors in one buffer (ops_dense.cpp kv_project_params), K = C:
// row scale [2C] (I8) | bias [2C] | LN weight [C] | LN bias [C] | decay [H] | value mix [H] | value scale [H].
layout(std430, binding = 2) readonly buffer Prm { float prm[]; };
layout(std430, binding = 2) readonly buffer Prm4 { vec4 prm4[]; };
// y [n, 2C] (u | w), then the completion counters [2H] at word pc.counter_off.
layout(std430, binding = 3) coherent buffer Y { float y[]; };
layout(std430, binding = 3) coherent buffer YC { uint y_words[]; };
TESSERA_STEP_BUFFER(4)
layout(std430, binding = 5) buffer St { float states[]; };  // key state [C], (unused) [C], w_{pos0-1} [C]
KV_CACHE_BUFFER(6, , KC)
KV_CACHE_BUFFER(7, , VC)
layout(push_constant) uniform P {
  uint M, n, x_stride, x_offset, flags;  // M = 2C; flags: 1 bias, 4 LN, 8 LN weight, 16 LN bias, 32 projected
  float ln_eps;
  uint d;
  float eps;
  uint counter_off;
} pc;
#include "weights.glsl"
#define W_SCALE(m) prm[m]
#define LN_W4(k4) prm4[KC + (k4)]
#define LN_B4(k4) prm4[(5u * KC) / 4u + (k4)]
#include "matvec_core.glsl"
#include "reduce.glsl"
KV_CACHE_STORE(KC)
KV_CACHE_STORE(VC)
shared bool is_last;

const uint CR = 32u;  // rows per finishing workgroup of a prompt chunk (ops_dense.cpp kKvChunkRows)

// Keys of rows [r_begin, r_end) from the state s before row 0; returns the state after r_end - 1.
float finish_keys(uint h, uint i, bool live, float s, uint r_begin, uint r_end) {
  uint C = pc.M / 2u, c = h * pc.d + i;
  float a = prm[6u * KC + h];
  // The carry: loads issued RB rows ahead of the recurrence, which stays one row after another.
  const uint RB = 64u;
  uint r = 0u;
  for (; r + RB <= r_begin; r += RB) {
    float v[RB];
    for (uint j = 0u; j < RB; ++j) v[j] = live ? y[(r + j) * pc.M + c] : 0.0;
    for (uint j = 0u; j < RB; ++j)
      if (live) s = a * s + (1.0 - a) * v[j];
  }
  for (; r < r_begin; ++r)
    if (live) s = a * s + (1.0 - a) * y[r * pc.M + c];
  // The rows to finish, CR at a time: their loads all issued before the first reduction's barrier.
  for (uint b = r_begin; b < r_end; b += CR) {
    float v[CR];
    for (uint j = 0u; j < CR; ++j) v[j] = live && b + j < r_end ? y[(b + j) * pc.M + c] : 0.0;
    for (uint j = 0u; j < CR && b + j < r_end; ++j) {
      if (live) s = a * s + (1.0 - a) * v[j];
      float norm = sqrt(wg_sum(live ? s * s : 0.0)) + pc.eps;
      if (live) KC_store((step.pos0 + b + j) * C + c, s / norm);
    }
  }
  return s;
}

// Values of rows [r_begin, r_end); prev = w of the row before r_begin.
void finish_values(uint h, uint i, bool live, float prev, uint r_begin, uint r_end) {
  uint C = pc.M / 2u, H = C / pc.d, c = h * pc.d + i;
  float mix = prm[6u * KC + H + h], sc = prm[6u * KC + 2u * H + h];
  for (uint b = r_begin; b < r_end; b += CR) {
    float w[CR];  // the rows' projections, loaded before the first reduction's barrier
    for (uint k = 0u; k < CR; ++k) w[k] = live && b + k < r_end ? y[(b + k) * pc.M + C + c] : 0.0;
    for (uint k = 0u; k < CR && b + k < r_end; ++k) {
      float cur = w[k];
      int j = int(step.pos0) - 1 + int(b + k);
      if (j >= 0) {  // uniform: the first token's value waits for the second token
        float v = (1.0 - mix) * cur + mix * prev;
        float norm = sqrt(wg_sum(v * v)) + pc.eps;
        if (live) VC_store(uint(j) * C + c, sc * (v / norm));
      }
      prev = cur;
    }
  }
}

// The whole forward's rows by one workgroup (decode), states advanced.
void finish_group(uint g, uint tid, bool live) {
  uint C = pc.M / 2u, H = C / pc.d, c = (g % H) * pc.d + tid;
  if (g < H) {
    float s = finish_keys(g, tid, live, live ? states[c] : 0.0, 0u, pc.n);
    if (live) states[c] = s;
  } else {
    finish_values(g - H, tid, live, live ? states[2u * C + c] : 0.0, 0u, pc.n);
    if (live) states[2u * C + c] = y[(pc.n - 1u) * pc.M + C + c];
  }
}

// Rows [CR c, CR (c + 1)) of head group g (prompt chunks), see the header.
void finish_chunk(uint g, uint tid, bool live) {
  uint C = pc.M / 2u, H = C / pc.d, c = (g % H) * pc.d + tid;
  uint r_begin = gl_WorkGroupID.y * CR, r_end = min(r_begin + CR, pc.n);
  float carried = live ? states[(g < H ? 0u : 2u * C) + c] : 0.0;
  if (g < H) {
    float s = finish_keys(g, tid, live, carried, r_begin, r_end);
    // The last chunk leaves the forward's final state in the key half of y's last row (no other
    // workgroup reads that row, and this one is done with it) for the group's last workgroup below.
    if (r_end == pc.n && live) y[(pc.n - 1u) * pc.M + c] = s;
  } else {
    float prev = (r_begin == 0u || !live) ? carried : y[(r_begin - 1u) * pc.M + C + c];
    finish_values(g - H, tid, live, prev, r_begin, r_end);
  }
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) is_last = atomicAdd(y_words[pc.counter_off + g], 1u) == gl_NumWorkGroups.y - 1u;
  barrier();
  if (is_last) {  // uniform: shared
    if (g < H) {
      if (live) states[c] = y[(pc.n - 1u) * pc.M + c];
    } else if (live) {
      states[2u * C + c] = y[(pc.n - 1u) * pc.M + C + c];
    }
    if (tid == 0u) y_words[pc.counter_off + g] = 0u;
  }
}

void main() {
  const uint RPG = gl_NumSubgroups;  // output rows per workgroup
  uint m = gl_WorkGroupID.x * RPG + gl_SubgroupID;
  uint r0 = gl_WorkGroupID.y * RT;
  float mean[RT], rstd[RT], acc[RT];
  if ((pc.flags & 32u) != 0u) {  // uniform
    uint tid = gl_LocalInvocationID.x;
    finish_chunk(gl_WorkGroupID.x, tid, tid < pc.d);  // WG >= d (host)
    return;
  }
  bool decode = pc.n == 1u;  // uniform
  uvec4 pre[PF];
  if (decode) prefetch_row(m, m < pc.M, pre);  // in flight during the LayerNorm statistics
  ln_statistics(r0, mean, rstd);                // the whole workgroup
  if (m < pc.M) {                               // uniform per subgroup
    if (decode) {
      acc[0] = decode_dot(m, pre, mean[0], rstd[0]);
    } else {
      matvec_dots(m, r0, mean, rstd, acc);
    }
    float b = ((pc.flags & 1u) != 0u) ? prm[2u * KC + m] : 0.0;
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
      is_last = atomicAdd(y_words[pc.counter_off + g], 1u) == expected - 1u;
    }
    barrier();
    if (is_last) {  // uniform: shared
      memoryBarrierBuffer();
      finish_group(g, tid, tid < pc.d);  // WG >= d (host)
      if (tid == 0u) y_words[pc.counter_off + g] = 0u;
    }
    barrier();
  }
}
