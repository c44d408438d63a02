// The dot products of shaders/matvec.comp, shared with kv_project.comp: one subgroup per output
// row m, up to RT token rows from r0; x' = x, or LayerNorm(x) with flag 4 of pc.flags (8: LN
// weight, 16: LN bias). K is specialization constant 2, so each lane's loop has a compile-time
// trip count and unrolls into independent loads that are all in flight at once (a 768-wide F16
// row: 3 16-byte loads per lane). Weights are read in 16-byte units (4 F32, 8 F16 or 16 I8
// elements) when a row is a whole number of them (VEC16 = 1, chosen by the host), else in
// 4-element units. The LayerNorm statistics use subgroup reductions only: no shared memory and no
// workgroup barrier at batch 1 (see ln_statistics).
// The includer declares x4 (vec4), w_raw / w16 (one binding, two views), w_scale, ln_w4, ln_b4
// and pc.{n, x_stride, x_offset, flags, ln_eps}, and includes weights.glsl first; or defines
// W_SCALE(m), LN_W4(k4) and LN_B4(k4) to read them from elsewhere (kv_project.comp: one buffer).
layout(constant_id = 2) const uint KC = 4;     // K, the row length
layout(constant_id = 3) const uint VEC16 = 0;  // 1: K * element bytes % 16 == 0
const uint RT = 4u;
#ifndef W_SCALE
#define W_SCALE(m) w_scale[m]
#define LN_W4(k4) ln_w4[k4]
#define LN_B4(k4) ln_b4[k4]
#endif
const uint EU = VEC16 == 1u ? (WTYPE == 0u ? 4u : WTYPE == 1u ? 8u : 16u) : 4u;  // elements per unit
const uint UNITS = KC / EU;

// Unit u of row m as EU/4 vec4s (unused entries stay 0).
void load_unit(uint m, uint u, out vec4 w[4]) {
  w[0] = w[1] = w[2] = w[3] = vec4(0.0);
  if (VEC16 == 0u) {
    w[0] = load_w4(m, u, KC);
  } else if (WTYPE == 0u) {
    w[0] = uintBitsToFloat(w16[(m * KC) / 4u + u]);
  } else if (WTYPE == 1u) {
    uvec4 p = w16[(m * KC) / 8u + u];
    w[0] = vec4(unpackHalf2x16(p.x), unpackHalf2x16(p.y));
    w[1] = vec4(unpackHalf2x16(p.z), unpackHalf2x16(p.w));
  } else {
    uvec4 p = w16[(m * KC) / 16u + u];
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
      int q = int(p[i]);
      w[i] = vec4(bitfieldExtract(q, 0, 8), bitfieldExtract(q, 8, 8), bitfieldExtract(q, 16, 8),
                  bitfieldExtract(q, 24, 8));
    }
  }
}

// acc += the unit's dot products, its EU / 4 quads in order (the rest of w and xs are 0).
void add_unit_dot(inout float acc, vec4 w[4], vec4 xs[4]) {
  [[unroll]] for (uint i = 0u; i < 4u; ++i) acc += i < EU / 4u ? dot(w[i], xs[i]) : 0.0;
}

// Decode (n = 1): the first PF units of a lane's row(s) are loaded before the LayerNorm statistics
// (raw, 16 bytes each), so their memory latency overlaps the statistics' loads and reductions.
const uint PF = 4u;

uvec4 raw_unit(uint m, uint u) {
  return VEC16 == 0u ? floatBitsToUint(load_w4(m, u, KC)) : w16[(m * KC) / (WTYPE == 0u ? 4u : WTYPE == 1u ? 8u : 16u) + u];
}

// A raw unit as load_unit gives it.
void unpack_raw(uvec4 p, out vec4 w[4]) {
  w[0] = w[1] = w[2] = w[3] = vec4(0.0);
  if (VEC16 == 0u || WTYPE == 0u) {
    w[0] = uintBitsToFloat(p);
  } else if (WTYPE == 1u) {
    w[0] = vec4(unpackHalf2x16(p.x), unpackHalf2x16(p.y));
    w[1] = vec4(unpackHalf2x16(p.z), unpackHalf2x16(p.w));
  } else {
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
      int q = int(p[i]);
      w[i] = vec4(bitfieldExtract(q, 0, 8), bitfieldExtract(q, 8, 8), bitfieldExtract(q, 16, 8),
                  bitfieldExtract(q, 24, 8));
    }
  }
}

// x' of unit u of the decode row (x itself, or LayerNorm-ed with flag 4).
void decode_x_unit(uint u, float mean, float rstd, out vec4 xs[4]) {
  bool ln = (pc.flags & 4u) != 0u;
  [[unroll]] for (uint i = 0u; i < 4u; ++i) {
    if (i >= EU / 4u) {
      xs[i] = vec4(0.0);
      continue;
    }
    uint k4 = u * (EU / 4u) + i;
    vec4 xv = x4[pc.x_offset / 4u + k4];
    if (ln) {
      xv = (xv - mean) * rstd;
      if ((pc.flags & 8u) != 0u) xv *= LN_W4(k4);
      if ((pc.flags & 16u) != 0u) xv += LN_B4(k4);
    }
    xs[i] = xv;
  }
}

// Row m's units for decode_dot, loaded first (call before ln_statistics).
void prefetch_row(uint m, bool valid, out uvec4 pre[PF]) {
  [[unroll]] for (uint k = 0u; k < PF; ++k) {
    uint u = gl_SubgroupInvocationID + k * gl_SubgroupSize;
    pre[k] = (valid && u < UNITS) ? raw_unit(m, u) : uvec4(0u);
  }
}

// The decode row's dot product with row m (every lane gets it), times the I8 row scale.
// Subgroup-uniform control flow required.
float decode_dot(uint m, uvec4 pre[PF], float mean, float rstd) {
  const uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
  float acc = 0.0;
  [[unroll]] for (uint k = 0u; k < PF; ++k) {
    uint u = lane + k * S;
    if (u < UNITS) {
      vec4 xs[4], w[4];
      decode_x_unit(u, mean, rstd, xs);
      unpack_raw(pre[k], w);
      add_unit_dot(acc, w, xs);
    }
  }
  for (uint u = lane + PF * S; u < UNITS; u += S) {
    vec4 xs[4], w[4];
    decode_x_unit(u, mean, rstd, xs);
    load_unit(m, u, w);
    add_unit_dot(acc, w, xs);
  }
  return subgroupAdd(acc) * ((WTYPE == 2u) ? W_SCALE(m) : 1.0);
}

shared vec2 ln_shared[RT];

// (mean, 1/sqrt(var + eps)) of the x row at vec4 index b4, by one subgroup (every lane gets them).
vec2 ln_row_statistics(uint b4) {
  const uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize, K4 = KC / 4u;
  vec4 s = vec4(0.0);
  for (uint k = lane; k < K4; k += S) s += x4[b4 + k];
  float mu = subgroupAdd(s.x + s.y + s.z + s.w) / float(KC);
  vec4 q = vec4(0.0);
  for (uint k = lane; k < K4; k += S) { vec4 dv = x4[b4 + k] - mu; q += dv * dv; }
  return vec2(mu, inversesqrt(subgroupAdd(q.x + q.y + q.z + q.w) / float(KC) + pc.ln_eps));
}

// LayerNorm statistics (mean, 1/sqrt(var + eps)) of x rows r0 .. r0 + RT - 1 (flag 4; else 0, 1).
// Decode (n = 1): every subgroup computes them itself with subgroup reductions (no barrier).
// Prefill: each row by one subgroup, shared through shared memory (one barrier), so a workgroup
// reads each x row twice rather than once per subgroup. Workgroup-uniform control flow required.
void ln_statistics(uint r0, out float mean[RT], out float rstd[RT]) {
  [[unroll]] for (uint r = 0u; r < RT; ++r) { mean[r] = 0.0; rstd[r] = 1.0; }
  if ((pc.flags & 4u) == 0u) return;
  if (pc.n == 1u) {
    vec2 st = ln_row_statistics(pc.x_offset / 4u);
    mean[0] = st.x;
    rstd[0] = st.y;
    return;
  }
  for (uint r = gl_SubgroupID; r < RT; r += gl_NumSubgroups) {
    if (r0 + r >= pc.n) break;  // uniform per subgroup
    vec2 st = ln_row_statistics((pc.x_offset + (r0 + r) * pc.x_stride) / 4u);
    if (subgroupElect()) ln_shared[r] = st;
  }
  barrier();
  [[unroll]] for (uint r = 0u; r < RT; ++r) {
    if (r0 + r < pc.n) { mean[r] = ln_shared[r].x; rstd[r] = ln_shared[r].y; }
  }
}

// acc[r] = the full dot product of row m with x' row r0 + r (every lane gets it), times the
// I8 row scale; rows past pc.n give 0. Subgroup-uniform control flow required.
void matvec_dots(uint m, uint r0, float mean[RT], float rstd[RT], out float acc[RT]) {
  const uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
  bool ln = (pc.flags & 4u) != 0u;
  [[unroll]] for (uint r = 0u; r < RT; ++r) acc[r] = 0.0;
  for (uint u = lane; u < UNITS; u += S) {
    vec4 w[4];
    load_unit(m, u, w);
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
      if (i >= EU / 4u) continue;
      uint k4 = u * (EU / 4u) + i;
      vec4 g = vec4(1.0), bb = vec4(0.0);
      if (ln) {
        if ((pc.flags & 8u) != 0u) g = LN_W4(k4);
        if ((pc.flags & 16u) != 0u) bb = LN_B4(k4);
      }
      [[unroll]] for (uint r = 0u; r < RT; ++r) {
        if (r0 + r < pc.n) {
          vec4 xv = x4[(pc.x_offset + (r0 + r) * pc.x_stride) / 4u + k4];
          if (ln) xv = (xv - mean[r]) * rstd[r] * g + bb;
          acc[r] += dot(w[i], xv);
        }
      }
    }
  }
  float row_scale = (WTYPE == 2u) ? W_SCALE(m) : 1.0;
  [[unroll]] for (uint r = 0u; r < RT; ++r) acc[r] = subgroupAdd(acc[r]) * row_scale;
}
