#version 450
// requires-glsl-feature: cooperative_matrix_nv
// pmem_prefill.comp on the matrix units (GL_NV_cooperative_matrix, 16 x 8 x 16 fp16 products with
// fp32 accumulation), for F16 slots and the heads the host lets through (head_mask: heads whose
// score bound below is within the tolerance; the others, and heads >= 32, run pmem_prefill.comp in
// a second dispatch). One workgroup of 4 subgroups per (split of the N slots, head, tile of 64
// rows); subgroup g owns rows 16g .. 16g + 15 of the tile, so each row's softmax lives in one
// subgroup. Per tile of 64 slots:
//   S = Q K^T with Q = Q_hi + Q_lo (the fp32 query 2^e q split into two halves: the split leaves
//     <= 2^-20 |q_i| per component; 2^e, a power of two, puts max |q_i| near 2^13) and the keys
//     exact in fp16. Each 16-channel step accumulates Q_lo K then Q_hi K in a fresh accumulator
//     (17 addends in the matrix unit) and is added to S in fp32, so
//     |S - q·k| <= 2^-18 Σ|q_i k_i| <= 2^-18 β'² ||k|| (docs/numerics.md);
//   an online softmax per row (two lanes per row: lane l and l ^ 16, 32 slots each);
//   O_tile = P V with P = 2^15 p split into P_hi + P_lo the same way (values exact in fp16),
//     O = O e^(m_old - m_new) + O_tile in registers (a row scale is no cooperative-matrix operation).
// The splits' partials and their merge are pmem_prefill.comp's; the new state is the last row tile's
// walk, staged after the partials and stored once every row tile of the head has merged.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "common.glsl"
layout(constant_id = 1) const uint D = 64;  // head size: 16, 32, 48 or 64 (host)
layout(std430, binding = 0) readonly buffer U { float u[]; };          // [n, C] key projections
layout(std430, binding = 1) buffer St { float state[]; };              // [C] leaky state before this forward
layout(std430, binding = 2) readonly buffer Dc { float decay[]; };     // [H]
layout(std430, binding = 3) readonly buffer Qs { float qscale[]; };    // [H] beta'^2
layout(std430, binding = 4) readonly buffer MK { uvec4 mk[]; };        // [.., N, D] halves
layout(std430, binding = 5) readonly buffer MV { uvec4 mv[]; };        // [.., N, D] halves
// [n, H, nchunks, D], then [H, D]: the leaky state after the last row (the new state, staged)
layout(std430, binding = 6) coherent buffer PO { float partial[]; };
layout(std430, binding = 7) coherent buffer ST { vec2 stats[]; };     // [n, H, nchunks]: (m, z)
layout(std430, binding = 8) readonly buffer VS { float vscale[]; };   // [H]
layout(std430, binding = 9) buffer O { float outv[]; };               // [n, C]
layout(std430, binding = 10) coherent buffer Cnt { uint tile_count[]; };  // [row tiles * H] then [H]
layout(push_constant) uniform P {
  uint C, H, N, nchunks, slot_base, n, flags, split_slots;  // flags: 1 accumulate into out, 2 advance the state
  uint head_mask;                                           // bit h: this dispatch serves head h
  float eps, scale;
} pc;
const uint BR = 64u, BS = 64u;  // rows per workgroup (4 subgroups x 16), slots per tile
const uint KU = D / 8u;         // 16-byte units per slot
const uint KD = D / 16u;        // 16-channel steps of a score
const uint KS = D + 8u;         // slot row stride in halves (16-byte aligned rows)
const uint SS = BS + 4u;  // fp32 staging row stride (D <= BS)
const uint PS = BS + 8u;  // P (and Q) row stride in halves
const float P_SCALE = 32768.0;    // p <= 1 becomes <= 2^15: P_lo stays normal down to p ~ 2^-29
const uint KS8 = KS / 8u;          // slot row stride in 16-byte units
shared uvec4 kv[BS * KS8];         // the tile's keys, then its values: [slot][channel], 8 halves per unit
shared float st[BR * SS];         // per subgroup rows: S, then P V (the queries before the loop)
shared float16_t ps[2u * BR * PS];  // hi plane, lo plane: [row][slot] (the queries' halves before the loop)
shared float row_factor[BR];
// Every shared variable is a multiple of 16 bytes, none a scalar: the matrix loads and stores need
// 16-byte aligned shared operands and GLSL cannot state an alignment, so no placement of these
// variables may leave an array off a 16-byte boundary. (On the H100 the kernel with a lone bool here
// read its half arrays one element early, as from an array 2 bytes off such a boundary.)
shared uint is_last[4];

// x = hi + lo in two halves. hi is x with its 13 low significand bits cleared (11 significant bits:
// exact in fp16 for |x| >= 2^-14), so lo = x - hi is exact in fp32 and |lo| < 2^-10 |x|. Splitting on
// the bits, not as float16_t(x) and x - float(float16_t(x)), leaves nothing for a compiler to fold:
// treating that round trip as the identity zeroes every lo plane (an fp16-only product).
float half_hi_f32(float x) { return uintBitsToFloat(floatBitsToUint(x) & 0xFFFFE000u); }
float16_t half_hi(float x) { return float16_t(half_hi_f32(x)); }
float16_t half_lo(float x) { return float16_t(x - half_hi_f32(x)); }

// A tile's keys or values travel through registers: fetched one step ahead (their global loads in
// flight while the matrix units work), then stashed into kv. kMaxUnits 16-byte units per thread:
// BS * KU / WG <= 4 for D <= 64 and the host's WG = 128.
const uint kMaxUnits = 4u;
void fetch_tile(bool values, uint slot0, uint nk, out uvec4 units[kMaxUnits]) {
  for (uint i = 0u; i < kMaxUnits; ++i) {
    const uint e = gl_LocalInvocationID.x + i * WG, jj = e / KU, unit = e % KU;
    units[i] = uvec4(0u);
    if (e < BS * KU && jj < nk) units[i] = values ? mv[(slot0 + jj) * KU + unit] : mk[(slot0 + jj) * KU + unit];
  }
}

void stash_tile(uvec4 units[kMaxUnits]) {
  for (uint i = 0u; i < kMaxUnits; ++i) {
    const uint e = gl_LocalInvocationID.x + i * WG, jj = e / KU, unit = e % KU;
    if (e >= BS * KU) break;
    kv[jj * KS8 + unit] = units[i];  // 8 halves as stored: one 16-byte store
  }
}

// Channel ch's leaky average from the carried state over rows [0, end), one row after another (the
// order of pmem_prefill.comp and the decode kernel), with the loads issued LA rows ahead; rows from
// `from` on go to st[row - r0][c]. Returns the value after the last row.
const uint LA = 32u;
float leaky_walk(uint ch, uint h, uint end, uint from, uint c) {
  const uint r0 = gl_WorkGroupID.z * BR;
  float a = decay[h], s = state[ch];
  uint r = 0u;
  for (; r + LA <= end; r += LA) {
    float v[LA];
    for (uint k = 0u; k < LA; ++k) v[k] = u[(r + k) * pc.C + ch];
    for (uint k = 0u; k < LA; ++k) {
      s = a * s + (1.0 - a) * v[k];
      if (r + k >= from) st[(r + k - r0) * SS + c] = s;
    }
  }
  for (; r < end; ++r) {
    s = a * s + (1.0 - a) * u[r * pc.C + ch];
    if (r >= from) st[(r - r0) * SS + c] = s;
  }
  return s;
}

uint counter_add(uint i) {
  return atomicAdd(tile_count[i], 1u, gl_ScopeQueueFamily, gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease);
}

void main() {
  const uint split = gl_WorkGroupID.x, h = gl_WorkGroupID.y, tile = gl_WorkGroupID.z;
  if (h >= 32u || ((pc.head_mask >> h) & 1u) == 0u) return;  // uniform: another dispatch serves it
  const uint tid = gl_LocalInvocationID.x, g = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  const uint r0 = tile * BR;
  // Queries: the leaky average of each channel walked over the rows up to this tile's last (the
  // same order as pmem_prefill.comp), into st[row][channel]. The last row tile's walk ends at the
  // new state: staged after the partials for whichever workgroup stores the state last.
  const uint state_stage = pc.n * pc.H * pc.nchunks * D;
  const bool stages_state = (pc.flags & 2u) != 0u && tile == gl_NumWorkGroups.z - 1u && split == 0u;
  for (uint c = tid; c < D; c += WG) {
    const float s_end = leaky_walk(h * D + c, h, min(r0 + BR, pc.n), r0, c);
    if (stages_state) partial[state_stage + h * D + c] = s_end;
    for (uint r = max(pc.n, r0); r < r0 + BR; ++r) st[(r - r0) * SS + c] = 0.0;
  }
  barrier();
  // 2^e with 2^13 <= 2^e beta'^2 < 2^14 (exact power of two; scores are scaled back by 2^-e).
  const int e = 13 - int(floor(log2(qscale[h])));
  if (tid < BR) {
    float ss = 0.0;
    for (uint c = 0u; c < D; ++c) ss += st[tid * SS + c] * st[tid * SS + c];
    row_factor[tid] = r0 + tid < pc.n ? qscale[h] / (sqrt(ss) + pc.eps) : 0.0;
  }
  barrier();
  for (uint i = tid; i < BR * D; i += WG) {
    uint rr = i / D, c = i % D;
    float q = ldexp(st[rr * SS + c] * row_factor[rr], e);
    ps[rr * PS + c] = half_hi(q);
    ps[BR * PS + rr * PS + c] = half_lo(q);
  }
  barrier();
  fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> qh[KD], ql[KD];
  for (uint t = 0u; t < KD; ++t) {
    coopMatLoadNV(qh[t], ps, (16u * g) * PS + 16u * t, PS, false);
    coopMatLoadNV(ql[t], ps, BR * PS + (16u * g) * PS + 16u * t, PS, false);
  }
  const float unscale = ldexp(1.0, -e);

  // Two lanes per row: lane l and l ^ 16 hold row 16g + (l & 15), slots (and channels) 2i + (l >> 4).
  const uint rr = 16u * g + (lane & 15u), half_ = lane >> 4u;
  const uint first = split * pc.split_slots, last = min(pc.N, first + pc.split_slots);
  const uint slot0 = pc.slot_base + h * pc.N;  // slot index of this head's first key
  float o[D / 2u];
  for (uint i = 0u; i < D / 2u; ++i) o[i] = 0.0;
  float m_run = NEG_INF, l_run = 0.0;
  const fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> zero = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);
  uvec4 keys_next[kMaxUnits], values_next[kMaxUnits];
  if (first < last) {
    fetch_tile(false, slot0 + first, min(BS, last - first), keys_next);
    fetch_tile(true, slot0 + first, min(BS, last - first), values_next);
  }
  for (uint j0 = first; j0 < last; j0 += BS) {
    const uint nk = min(BS, last - j0);
    const bool more = j0 + BS < last;
    barrier();  // the previous tile's values and P V are consumed (and the queries are loaded)
    stash_tile(keys_next);
    barrier();
    if (more) fetch_tile(false, slot0 + j0 + BS, min(BS, last - j0 - BS), keys_next);
    for (uint jb = 0u; jb < BS / 8u; ++jb) {
      fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> acc = zero;
      for (uint t = 0u; t < KD; ++t) {
        // B = K^T (channels x slots): the [slot][channel] tile read column-major.
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> kb;
        coopMatLoadNV(kb, kv, (8u * jb) * KS8 + 2u * t, KS8, true);
        fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> part = coopMatMulAddNV(ql[t], kb, zero);
        part = coopMatMulAddNV(qh[t], kb, part);
        for (int i = 0; i < acc.length(); ++i) acc[i] = acc[i] + part[i];
      }
      coopMatStoreNV(acc, st, (16u * g) * SS + 8u * jb, SS, false);
    }
    barrier();  // S is visible; every subgroup is done with the keys
    stash_tile(values_next);
    if (more) fetch_tile(true, slot0 + j0 + BS, min(BS, last - j0 - BS), values_next);
    float sc[BS / 2u];
    float m_tile = NEG_INF;
    for (uint i = 0u; i < BS / 2u; ++i) {
      uint jj = 2u * i + half_;
      sc[i] = jj < nk ? st[rr * SS + jj] * unscale : NEG_INF;
      m_tile = max(m_tile, sc[i]);
    }
    m_tile = max(m_tile, subgroupShuffleXor(m_tile, 16u));
    const float m_new = max(m_run, m_tile);
    const float alpha = exp(m_run - m_new);  // 0 on the first tile (m_old = -inf)
    float l = 0.0;
    for (uint i = 0u; i < BS / 2u; ++i) {
      uint jj = 2u * i + half_;
      float p = exp(sc[i] - m_new);
      l += p;
      float ph = p * P_SCALE;
      ps[rr * PS + jj] = half_hi(ph);
      ps[BR * PS + rr * PS + jj] = half_lo(ph);
    }
    l_run = l_run * alpha + l;
    m_run = m_new;
    barrier();  // the values and P are visible
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> ph[BS / 16u], pl[BS / 16u];
    for (uint t = 0u; t < BS / 16u; ++t) {
      coopMatLoadNV(ph[t], ps, (16u * g) * PS + 16u * t, PS, false);
      coopMatLoadNV(pl[t], ps, BR * PS + (16u * g) * PS + 16u * t, PS, false);
    }
    for (uint cb = 0u; cb < D / 8u; ++cb) {
      fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> acc = zero;
      for (uint t = 0u; t < BS / 16u; ++t) {
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> vb;  // values: slots x channels, row-major
        coopMatLoadNV(vb, kv, (16u * t) * KS8 + cb, KS8, false);
        fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> part = coopMatMulAddNV(pl[t], vb, zero);
        part = coopMatMulAddNV(ph[t], vb, part);
        for (int i = 0; i < acc.length(); ++i) acc[i] = acc[i] + part[i];
      }
      coopMatStoreNV(acc, st, (16u * g) * SS + 8u * cb, SS, false);
    }
    barrier();  // P V is visible
    for (uint i = 0u; i < D / 2u; ++i) o[i] = o[i] * alpha + st[rr * SS + 2u * i + half_];
  }
  // This split's partials: O (times 2^-15) and (m, z) per row.
  const float z = l_run + subgroupShuffleXor(l_run, 16u);
  const uint r = r0 + rr;
  if (r < pc.n) {
    uint blk = (r * pc.H + h) * pc.nchunks + split;
    for (uint i = 0u; i < D / 2u; ++i) partial[blk * D + 2u * i + half_] = o[i] * (1.0 / P_SCALE);
    if (half_ == 0u) stats[blk] = vec2(m_run, z);
  }
  // The counters hand the partials over between workgroups: acquire-release at queue-family scope
  // (this kernel runs under the Vulkan memory model that cooperative matrices need).
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeQueueFamily, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  if (tid == 0u) is_last[0] = counter_add(tile * pc.H + h) == gl_NumWorkGroups.x - 1u ? 1u : 0u;
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeQueueFamily, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  if (is_last[0] == 0u) return;  // uniform: shared flag
  // Merge the splits of every row of the tile: o = sum_s O_s e^(m_s - M) / sum_s z_s e^(m_s - M).
  const uint nsplit = gl_NumWorkGroups.x;
  for (uint i = tid; i < BR * D; i += WG) {
    uint mr = r0 + i / D, c = i % D;
    if (mr >= pc.n) continue;
    uint base = (mr * pc.H + h) * pc.nchunks;
    float M = NEG_INF;
    for (uint s = 0u; s < nsplit; ++s) M = max(M, stats[base + s].x);
    float zz = 0.0, oo = 0.0;
    for (uint s = 0u; s < nsplit; ++s) {
      vec2 sz = stats[base + s];
      float f = exp(sz.x - M);
      zz += sz.y * f;
      oo += partial[(base + s) * D + c] * f;
    }
    float v = oo * (pc.scale * vscale[h] / zz);
    uint idx = mr * pc.C + h * D + c;
    outv[idx] = ((pc.flags & 1u) != 0u) ? outv[idx] + v : v;
  }
  if (tid == 0u) tile_count[tile * pc.H + h] = 0u;
  if ((pc.flags & 2u) == 0u) return;
  // The state: once every row tile of this head has merged, nothing reads the old state any more.
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeQueueFamily, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  if (tid == 0u) is_last[0] = counter_add(gl_NumWorkGroups.z * pc.H + h) == gl_NumWorkGroups.z - 1u ? 1u : 0u;
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeQueueFamily, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  if (is_last[0] == 0u) return;
  // The staged state: written before the last row tile counted itself, so ordered before this
  // read by the counters' release-acquire chain.
  for (uint c = tid; c < D; c += WG) state[h * D + c] = partial[state_stage + h * D + c];
  if (tid == 0u) tile_count[gl_NumWorkGroups.z * pc.H + h] = 0u;
}
