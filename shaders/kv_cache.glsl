// Key/value cache elements, the one place they are loaded and stored (kv_project.comp writes the
// caches; cosine.glsl, attn_scores, attn_softmax_partial and attn_values read them; the query of the
// context memory is a cache row too). Two layouts of the same [capacity, C] element grid, chosen by
// specialisation constant KV_F16 (id KV_CACHE_SPEC_ID, which the includer defines):
// - 0: float32, one element per word;
// - 1: IEEE half, two elements per 32-bit word (element e in bits 16 * (e & 1) of word e / 2), half
//   the bytes per decode step. The words are plain 32-bit storage with unpackHalf2x16, so no 16-bit
//   storage feature is needed to run either layout (docs/vulkan.md says when the host picks which).
// Stores round to nearest even in integer arithmetic (kv_half_bits), the same on every device;
// docs/numerics.md "F16 key/value caches" states the error bound.
layout(constant_id = KV_CACHE_SPEC_ID) const uint KV_F16 = 0;

// The float32 value x as IEEE half bits, round to nearest even (halves below 2^-14 are subnormal, not
// flushed); |x| >= 65520 becomes infinity, NaN stays NaN.
uint kv_half_bits(float x) {
  uint b = floatBitsToUint(x);
  uint sign = (b >> 16u) & 0x8000u, a = b & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return sign | 0x7E00u;   // NaN
  if (a >= 0x477FF000u) return sign | 0x7C00u;  // >= 65520 (ties to even rounds 65520 up): infinity
  if (a >= 0x38800000u) {                       // >= 2^-14: a normal half
    uint r = a - 0x38000000u;                   // exponent bias 127 -> 15
    return sign | ((r + 0x0FFFu + ((r >> 13u) & 1u)) >> 13u);
  }
  // Subnormal half m * 2^-24: |x| * 2^24 is exact (a power of two), m = its nearest even integer
  // (1024 is the smallest normal half, encoded the same way).
  return sign | uint(roundEven(uintBitsToFloat(a) * 16777216.0));
}

// Declares the cache at binding b under `name`: name_f32[] / name_f32x4[] (float32 layout) and
// name_f16x2[] / name_f16x4[] / name_f16x8[] (half layout: a word holds 2 elements, a uvec2 4, a
// uvec4 8).
#define KV_CACHE_BUFFER(b, access, name)                                                   \
  layout(std430, binding = b) access buffer name##F32 { float name##_f32[]; };             \
  layout(std430, binding = b) access buffer name##F32x4 { vec4 name##_f32x4[]; };          \
  layout(std430, binding = b) access buffer name##F16x2 { uint name##_f16x2[]; };          \
  layout(std430, binding = b) access buffer name##F16x4 { uvec2 name##_f16x4[]; };         \
  layout(std430, binding = b) access buffer name##F16x8 { uvec4 name##_f16x8[]; };

// Eight halves (one 16-byte unit of the half layout) as two quads.
void kv_unpack8(uvec4 w, out vec4 a, out vec4 b) {
  a = vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
  b = vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w));
}

// name_load(e): element e; name_load4(i4): elements 4 i4 .. 4 i4 + 3 (one 16- or 8-byte load);
// name_load8(i8, a, b): elements 8 i8 .. 8 i8 + 7 into a (first four) and b (one 16-byte load of
// halves, two of float32); name_raw8(i8): that unit of the half layout as loaded (kv_unpack8).
#define KV_CACHE_LOADS(name)                                                                \
  float name##_load(uint e) {                                                               \
    if (KV_F16 != 0u) return unpackHalf2x16(name##_f16x2[e >> 1u])[e & 1u];                 \
    return name##_f32[e];                                                                   \
  }                                                                                         \
  vec4 name##_load4(uint i4) {                                                              \
    if (KV_F16 != 0u) {                                                                     \
      uvec2 w = name##_f16x4[i4];                                                           \
      return vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));                                \
    }                                                                                       \
    return name##_f32x4[i4];                                                                \
  }                                                                                         \
  uvec4 name##_raw8(uint i8) { return name##_f16x8[i8]; }                                   \
  void name##_load8(uint i8, out vec4 a, out vec4 b) {                                      \
    if (KV_F16 != 0u) {                                                                     \
      kv_unpack8(name##_f16x8[i8], a, b);                                                   \
    } else {                                                                                \
      a = name##_f32x4[2u * i8];                                                            \
      b = name##_f32x4[2u * i8 + 1u];                                                       \
    }                                                                                       \
  }

// name_store(e, x): element e = x. A half shares its word with a neighbour another invocation may
// store at the same time: clearing and setting only its own 16 bits (two atomics on disjoint bits,
// which commute) needs no coordination between them. The buffer must not be writeonly.
#define KV_CACHE_STORE(name)                                                                \
  void name##_store(uint e, float x) {                                                      \
    if (KV_F16 != 0u) {                                                                     \
      uint shift = (e & 1u) * 16u;                                                          \
      atomicAnd(name##_f16x2[e >> 1u], ~(0xFFFFu << shift));                                \
      atomicOr(name##_f16x2[e >> 1u], kv_half_bits(x) << shift);                            \
    } else {                                                                                \
      name##_f32[e] = x;                                                                    \
    }                                                                                       \
  }
