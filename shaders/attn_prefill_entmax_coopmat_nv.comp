#version 450
// requires-glsl-feature: cooperative_matrix_nv
// attn_prefill_entmax.comp (exact entmax, r = 1, 2, 3: max sweep, certified threshold sweeps on the
// recomputed cosines, weights of the support) on the matrix units, with the tiles and cosines of
// attn_prefill_softmax_coopmat_nv.comp (F16 caches, queries from the key cache: exact fp16 products,
// fp32 accumulation). Lanes 2r and 2r + 1 of a subgroup own row r of its 16: each sums the moments of
// alternate keys, the pair adds its two sums (the same total in both lanes), and both take the same
// threshold decisions. The weights are rounded to fp16 for the product with the values; the
// normaliser sums the same rounded weights. A value tile is read only when some row of the tile gives
// one of its keys a weight.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
TESSERA_STEP_BUFFER(0)
#define KV_CACHE_SPEC_ID 2
#include "kv_cache.glsl"
KV_CACHE_BUFFER(1, readonly, Q)  // F16 cache words; the query rows are cache rows pos0 + row
KV_CACHE_BUFFER(2, readonly, K)
KV_CACHE_BUFFER(3, readonly, V)
layout(std430, binding = 4) readonly buffer HS { float head_scale[]; };
layout(std430, binding = 5) readonly buffer OS { float out_scale[]; };
layout(std430, binding = 6) buffer O { float outv[]; };
layout(push_constant) uniform P {
  uint H, q_stride, flags;  // flags: 1 = query rows are cache rows pos0 + row (required), 2 = accumulate
  uint k_base, k_head_stride, k_key_stride, v_base, v_head_stride, v_key_stride;
  uint mask_offset, nkeys_fixed, row_base, rows, out_stride;
  float scale;
} pc;
#include "attention_common.glsl"
layout(constant_id = 1) const uint D = 64;  // head size, a multiple of 16
const uint BQ = 64u, BK = 64u, SG_ROWS = 16u;
const uint KS = D + 8u;    // fp16 rows of keys, values, queries: 16-byte aligned, staggered banks
const uint PS = BK + 8u;   // fp16 rows of weights
const uint SS = BK + 4u;   // fp32 rows of cosines (and of the outputs at the end: D <= BK)
const uint DK = D / 16u;   // k-steps of the cosines
const uint NB = BK / 8u;   // 8-key column blocks of a score tile
const uint OB = D / 8u;    // 8-channel column blocks of the outputs
layout(constant_id = 3) const uint R = 2;  // 1 / (alpha - 1)
#define MAX_SWEEPS 64u
shared uint open_rows, tile_used;

// Root delta of sum (x - delta)^r = 1 over a fixed set with shifted moments (n, a1, a2, a3), as
// attn_entmax_threshold.comp.
float solve_set(float n, float a1, float a2, float a3) {
  if (R == 1u) return (a1 - 1.0) / n;
  if (R == 2u) return (a2 - 1.0) / (a1 + sqrt(max(a1 * a1 - n * (a2 - 1.0), 0.0)));
  float d = 0.0;
  for (uint it = 0u; it < 40u; ++it) {
    float g = a3 - 3.0 * d * a2 + 3.0 * d * d * a1 - n * d * d * d - 1.0;
    float gp = -3.0 * (a2 - 2.0 * d * a1 + n * d * d);
    float nd = gp < 0.0 ? d - g / gp : d;
    if (nd == d) break;
    d = nd;
  }
  return d;
}

float weight(float y, float tau) {
  float x = max(y - tau, 0.0);
  return R == 1u ? x : R == 2u ? x * x : x * x * x;
}
shared float16_t ks[BK * KS];
shared float16_t vs[BK * KS];
shared float16_t ps[BQ * PS];
shared float ss[BQ * SS];

// Halves of the cache words (exact) into a shared fp16 tile: `n` rows of D from row `first` on
// (clamped to `last`), element base + row * stride.
void load_tile(bool values, int first, int last, uint base, uint stride) {
  const uint tid = gl_LocalInvocationID.x;
  [[dont_unroll]] for (uint e = tid; e < BK * (D / 4u); e += WG) {
    uint j = e / (D / 4u), c4 = e % (D / 4u);
    uint row = uint(min(first + int(j), last));
    uvec2 w = values ? V_f16x4[(base + row * stride) / 4u + c4] : K_f16x4[(base + row * stride) / 4u + c4];
    vec2 lo = unpackHalf2x16(w.x), hi = unpackHalf2x16(w.y);
    f16vec4 h = f16vec4(lo.x, lo.y, hi.x, hi.y);
    if (values) {
      for (uint c = 0u; c < 4u; ++c) vs[j * KS + 4u * c4 + c] = h[c];
    } else {
      for (uint c = 0u; c < 4u; ++c) ks[j * KS + 4u * c4 + c] = h[c];
    }
  }
}

// The cosines of this subgroup's 16 rows with the BK keys in ks, into its rows of ss.
void tile_cosines(uint sg_row, in fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> qa[DK]) {
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> acc[NB];
  for (uint b = 0u; b < NB; ++b) acc[b] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);
  for (uint k = 0u; k < DK; ++k)
    for (uint b = 0u; b < NB; ++b) {
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> kb;
      coopMatLoadNV(kb, ks, (8u * b) * KS + 16u * k, KS, true);  // K^T: keys are its columns
      acc[b] = coopMatMulAddNV(qa[k], kb, acc[b]);
    }
  for (uint b = 0u; b < NB; ++b) coopMatStoreNV(acc[b], ss, sg_row * SS + 8u * b, SS, false);
  subgroupMemoryBarrierShared();
  subgroupBarrier();
}

void main() {
  const uint tid = gl_LocalInvocationID.x, sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  const uint h = gl_WorkGroupID.y;
  const uint tile = gl_NumWorkGroups.x - 1u - gl_WorkGroupID.x, r0 = tile * BQ;  // longest tiles first
  const uint tile_rows = min(BQ, pc.rows - r0);
  const int nk_last = row_keys(r0 + tile_rows - 1u, pc.row_base, pc.mask_offset, pc.nkeys_fixed);
  const uint sg_row = sg * SG_ROWS;
  // Lanes 2r and 2r + 1 share row r of the subgroup's 16: keys 2j and 2j + 1 of a tile.
  const uint my_row = sg_row + lane / 2u, par = lane % 2u;
  const int my_nk = my_row < tile_rows ? row_keys(r0 + my_row, pc.row_base, pc.mask_offset, pc.nkeys_fixed) : 0;
  const float am1 = 1.0 / float(R), ys = am1 * head_scale[h];  // y = ys * (c - m)

  // The queries (cache rows pos0 + row_base + r0 + r) through ps (D <= BK) into registers.
  const int first_q = int(step.pos0 + pc.row_base + r0);
  [[dont_unroll]] for (uint e = tid; e < BQ * (D / 4u); e += WG) {
    uint r = e / (D / 4u), c4 = e % (D / 4u);
    uint row = uint(first_q + int(min(r, tile_rows - 1u)));
    uvec2 w = Q_f16x4[(row * pc.q_stride + h * D) / 4u + c4];
    vec2 w0 = unpackHalf2x16(w.x), w1 = unpackHalf2x16(w.y);
    f16vec4 q = f16vec4(w0.x, w0.y, w1.x, w1.y);
    for (uint c = 0u; c < 4u; ++c) ps[r * PS + 4u * c4 + c] = q[c];
  }
  barrier();
  fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> qa[DK];
  for (uint k = 0u; k < DK; ++k) coopMatLoadNV(qa[k], ps, sg_row * PS + 16u * k, PS, false);
  barrier();

  const uint kb = pc.k_base + h * pc.k_head_stride, vb = pc.v_base + h * pc.v_head_stride;
  // Sweep 1: the row maxima of the cosines.
  float m = NEG_INF;
  for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
    load_tile(false, j0, nk_last - 1, kb, pc.k_key_stride);
    barrier();
    tile_cosines(sg_row, qa);
    for (uint j = par; j < BK; j += 2u) {
      if (j0 + int(j) < my_nk) m = max(m, ss[my_row * SS + j]);
    }
    barrier();
  }
  m = max(m, subgroupShuffleXor(m, 1u));
  // Sweeps 2: the threshold of each row, bracket [lo, hi] with f(lo) >= 1 >= f(hi) (f(-1) >= 1, f(0) = 0).
  float lo = -1.0, hi = 0.0, t = -1.0, tau = 0.0;
  bool done = m == NEG_INF;  // a row with no visible key: weight sum 0, output 0
  for (uint sweep = 0u; sweep < MAX_SWEEPS; ++sweep) {
    if (tid == 0u) open_rows = 0u;
    barrier();
    if (!done) atomicAdd(open_rows, 1u);
    barrier();
    uint open = open_rows;
    barrier();
    if (open == 0u) break;  // uniform
    float n = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, ymin = 1.0;
    for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
      load_tile(false, j0, nk_last - 1, kb, pc.k_key_stride);
      barrier();
      tile_cosines(sg_row, qa);
      if (!done)
        for (uint j = par; j < BK; j += 2u) {
          float y = j0 + int(j) < my_nk ? ys * (ss[my_row * SS + j] - m) : -2.0;
          if (y > t) {
            float x = y - t;
            n += 1.0;
            s1 += x;
            s2 += x * x;
            s3 += x * x * x;
            ymin = min(ymin, y);
          }
        }
      barrier();
    }
    n += subgroupShuffleXor(n, 1u);
    s1 += subgroupShuffleXor(s1, 1u);
    s2 += subgroupShuffleXor(s2, 1u);
    s3 += subgroupShuffleXor(s3, 1u);
    ymin = min(ymin, subgroupShuffleXor(ymin, 1u));
    if (!done) {
      float f = R == 1u ? s1 : R == 2u ? s2 : s3;
      float fd = R == 1u ? n : R == 2u ? s1 : s2;
      float root = t + solve_set(n, s1, s2, s3);
      if (f >= 1.0) {
        lo = t;
        bool tiny = hi - lo <= 4.8e-7 * max(abs(lo), abs(hi));
        float next = min(t + (f - pow(f, 1.0 - am1)) / fd, hi);
        if ((root <= ymin && f <= 2.0) || tiny || next <= t) {
          tau = root;
          done = true;
        } else {
          t = next;
        }
      } else {
        hi = t;
        t = root > lo && root < hi ? root : 0.5 * (lo + hi);
      }
    }
  }
  if (!done) tau = lo;  // MAX_SWEEPS reached: the last verified left point
  // Sweep 3: weights and weighted values.
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> o[OB];
  for (uint b = 0u; b < OB; ++b) o[b] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);
  float z = 0.0;
  for (int j0 = 0; j0 < nk_last; j0 += int(BK)) {
    if (tid == 0u) tile_used = 0u;
    load_tile(false, j0, nk_last - 1, kb, pc.k_key_stride);
    barrier();
    tile_cosines(sg_row, qa);
    bool any = false;
    for (uint j = par; j < BK; j += 2u) {
      float p = j0 + int(j) < my_nk ? weight(ys * (ss[my_row * SS + j] - m), tau) : 0.0;
      float16_t ph = float16_t(p);
      z += float(ph);
      any = any || ph > float16_t(0.0);
      ps[my_row * PS + j] = ph;
    }
    if (any) tile_used = 1u;
    barrier();
    if (tile_used != 0u) {  // uniform
      load_tile(true, j0, nk_last - 1, vb, pc.v_key_stride);
      barrier();
      for (uint k = 0u; k < BK / 16u; ++k) {
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> pa;
        coopMatLoadNV(pa, ps, sg_row * PS + 16u * k, PS, false);
        for (uint b = 0u; b < OB; ++b) {
          fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> vm;
          coopMatLoadNV(vm, vs, (16u * k) * KS + 8u * b, KS, false);
          o[b] = coopMatMulAddNV(pa, vm, o[b]);
        }
      }
    }
    barrier();
  }
  z += subgroupShuffleXor(z, 1u);
  for (uint b = 0u; b < OB; ++b) coopMatStoreNV(o[b], ss, sg_row * SS + 8u * b, SS, false);
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  const float f = out_scale[h] * pc.scale;
  // Lane pair (2r, 2r + 1): row r's D outputs, alternate channels.
  if (my_row < tile_rows) {
    float g = z > 0.0 ? f / z : 0.0;
    for (uint c = par; c < D; c += 2u) {
      uint oe = (pc.row_base + r0 + my_row) * pc.out_stride + h * D + c;
      float val = g * ss[my_row * SS + c];
      outv[oe] = ((pc.flags & 2u) != 0u) ? outv[oe] + val : val;
    }
  }
}
