// Cosines q · k_j for the WG keys of one chunk, into shared cs[] (NEG_INF beyond the visible keys).
// Each lane keeps an error-free (TwoProduct + TwoSum) partial sum and the butterfly merge stays
// compensated: heads with beta^2 = e^10 turn 1e-7 relative errors of c into 2e-3 score errors, so
// the result keeps ~1 ulp.
// Two paths, chosen by specialization constant DH (id 1; the includer must not use id 1 otherwise):
// - DH = head size (host checks: multiple of 16, <= 128, key base and strides multiples of 4, of 8
//   for F16 caches): keys read by KL = 4 lanes each, every lane loading all of its part of the key
//   with no dependence between loads: vec4 (64 contiguous bytes per key per load), or for F16
//   caches with DH % 32 == 0 eight halves per 16-byte load (half the load instructions of 8-byte
//   quads). Decode is latency-bound (a handful of workgroups per head), so the number of
//   serialised round trips is what costs.
// - DH = 0: any head size, float loads, d/8 lanes per key (the portable fallback).
// Needs qs[] (the query, d floats) filled, the keys as cache K (kv_cache.glsl: KV_CACHE_BUFFER and
// KV_CACHE_LOADS(K), float32 or F16) and a barrier before.
#include "compensated.glsl"
layout(constant_id = 1) const uint DH = 0;
shared float cs[WG];

const uint COS_KL = 4u;                                     // lanes per key (vec4 path)
const uint COS_PER = DH / 4u / COS_KL;                      // vec4 per lane per key (<= 8)
const uint COS_MAX_PER = 8u;                                // DH <= 128 (host)
// 16-byte loads of 8 halves: F16 keys, DH % 32 == 0. A product, not &&: glslc lowers && of
// specialization constants to a branch that its optimiser then rejects.
const bool COS_WIDE = uint(KV_F16 != 0u) * uint(DH % 32u == 0u) * uint(DH != 0u) != 0u;

// Element of quad i of lane `sub`: quad i of the vec4 path is elements 4 (sub + i KL) ..; on the
// wide path unit i / 2 is elements 8 (sub + (i / 2) KL) .., quad i its half i % 2.
uint cos_element(uint sub, uint i) {
  return COS_WIDE ? 8u * (sub + (i / 2u) * COS_KL) + 4u * (i % 2u) : 4u * (sub + i * COS_KL);
}

// Wide path: 16-byte units per lane and key (raw halves).
const uint COS_UPL = COS_PER / 2u, COS_MAX_UPL = COS_MAX_PER / 2u;

// The compensated cosine of key j (round r's key of this lane) into cs[jj]: its units already
// loaded (wide path) or loaded here.
void cosine_round(uint r, uint slot, uint sub, uint chunk, int nk, uint head_base, uint key_stride,
                  vec4 qv[COS_MAX_PER], uvec4 raw[COS_MAX_UPL]) {
  uint jj = r * (WG / COS_KL) + slot;
  int j = int(chunk * WG + jj);
  vec4 kv[COS_MAX_PER];
  if (COS_WIDE) {
    [[unroll]] for (uint i = 0u; i < COS_MAX_UPL; ++i)
      if (i < COS_UPL) kv_unpack8(raw[i], kv[2u * i], kv[2u * i + 1u]);
  } else {
    uint kb4 = (head_base + uint(min(j, nk - 1)) * key_stride) / 4u + sub;
    [[unroll]] for (uint i = 0u; i < COS_MAX_PER; ++i)
      if (i < COS_PER) kv[i] = K_load4(kb4 + i * COS_KL);
  }
  precise float sum = 0.0, err = 0.0;
  [[unroll]] for (uint i = 0u; i < COS_MAX_PER; ++i) {
    if (i < COS_PER) {
      comp_fma(qv[i].x, kv[i].x, sum, err);
      comp_fma(qv[i].y, kv[i].y, sum, err);
      comp_fma(qv[i].z, kv[i].z, sum, err);
      comp_fma(qv[i].w, kv[i].w, sum, err);
    }
  }
  comp_merge(COS_KL, sum, err);
  if (sub == 0u) cs[jj] = j < nk ? sum + err : NEG_INF;
}

// Round r's units of this lane's key (wide path), loads clamped to the last visible key.
void cosine_load_round(uint r, uint slot, uint sub, uint chunk, int nk, uint head_base, uint key_stride,
                       out uvec4 raw[COS_MAX_UPL]) {
  int j = int(chunk * WG + r * (WG / COS_KL) + slot);
  uint kb8 = (head_base + uint(min(j, nk - 1)) * key_stride) / 8u + sub;
  [[unroll]] for (uint i = 0u; i < COS_MAX_UPL; ++i) raw[i] = i < COS_UPL ? K_raw8(kb8 + i * COS_KL) : uvec4(0u);
}

// Every loop over the per-lane arrays has a compile-time bound (COS_MAX_PER, COS_MAX_UPL) and a guard
// on the specialised count, and the KL = 4 rounds are four calls: unrolled and inlined, the arrays
// are indexed by constants and stay in registers. Loops bounded by the specialisation constants
// themselves survive glslc and left such arrays in memory on the NVIDIA driver.
void chunk_cosines_vec4(uint chunk, int nk, uint head_base, uint key_stride) {
  uint tid = gl_LocalInvocationID.x, sub = tid % COS_KL, slot = tid / COS_KL;
  vec4 qv[COS_MAX_PER];
  [[unroll]] for (uint i = 0u; i < COS_MAX_PER; ++i) {
    uint e = cos_element(sub, i);
    qv[i] = i < COS_PER ? vec4(qs[e], qs[e + 1u], qs[e + 2u], qs[e + 3u]) : vec4(0.0);
  }
  // Round r covers keys r * (WG / KL) + slot; KL rounds cover the chunk. Loads are clamped to the
  // last visible key (never out of bounds, no branch around them) and the result masked after. On
  // the wide path every round's units are loaded before the first sum (one memory round trip for
  // the chunk instead of one per round).
  uvec4 raw0[COS_MAX_UPL], raw1[COS_MAX_UPL], raw2[COS_MAX_UPL], raw3[COS_MAX_UPL];
  if (COS_WIDE) {
    cosine_load_round(0u, slot, sub, chunk, nk, head_base, key_stride, raw0);
    cosine_load_round(1u, slot, sub, chunk, nk, head_base, key_stride, raw1);
    cosine_load_round(2u, slot, sub, chunk, nk, head_base, key_stride, raw2);
    cosine_load_round(3u, slot, sub, chunk, nk, head_base, key_stride, raw3);
  }
  cosine_round(0u, slot, sub, chunk, nk, head_base, key_stride, qv, raw0);
  cosine_round(1u, slot, sub, chunk, nk, head_base, key_stride, qv, raw1);
  cosine_round(2u, slot, sub, chunk, nk, head_base, key_stride, qv, raw2);
  cosine_round(3u, slot, sub, chunk, nk, head_base, key_stride, qv, raw3);
}

void chunk_cosines_generic(uint chunk, int nk, uint head_base, uint key_stride, uint d) {
  uint S = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
  uint KL = 1u << findMSB(max(1u, min(S, d / 8u)));
  uint per = S / KL, sub = lane % KL, slot = lane / KL;
  for (uint jj0 = gl_SubgroupID * per; jj0 < WG; jj0 += gl_NumSubgroups * per) {  // uniform per subgroup
    uint jj = jj0 + slot;
    uint j = chunk * WG + jj;
    bool valid = jj < WG && int(j) < nk;
    precise float sum = 0.0, err = 0.0;
    if (valid) {
      uint kb = head_base + j * key_stride;
      for (uint i = sub; i < d; i += KL) comp_fma(qs[i], K_load(kb + i), sum, err);
    }
    comp_merge(KL, sum, err);
    if (sub == 0u && jj < WG) cs[jj] = valid ? sum + err : NEG_INF;
  }
}

void chunk_cosines(uint chunk, int nk, uint head_base, uint key_stride, uint d) {
  if (DH != 0u)  // a specialization constant: the other path is compiled out
    chunk_cosines_vec4(chunk, nk, head_base, key_stride);
  else
    chunk_cosines_generic(chunk, nk, head_base, key_stride, d);
  barrier();
}
