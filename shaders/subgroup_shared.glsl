// The shared-memory flavour of every kernel (compiled with TESSERA_SUBGROUPS=0 for devices or
// profiles without subgroup operations: Vulkan 1.0, Android Baseline 2022, boards without subgroup
// arithmetic). One subgroup is the whole workgroup and each subgroup operation below is a
// shared-memory exchange between barriers. Kernels call subgroup operations in subgroup-uniform
// control flow, which is workgroup-uniform here, so the barriers are legal; the reductions add in a
// fixed tree order, so results stay deterministic. The host dispatches one subgroup per workgroup
// (Context::rows_per_workgroup). A shader that needs an operation not emulated here marks itself
// `// requires-subgroups` (no shared flavour is built; the host must not pick it without subgroups).
#define gl_SubgroupSize WG
#define gl_SubgroupInvocationID gl_LocalInvocationIndex
#define gl_SubgroupID 0u
#define gl_NumSubgroups 1u
#define subgroupElect() (gl_LocalInvocationIndex == 0u)
#define subgroupAdd sgs_add
#define subgroupMax sgs_max
#define subgroupMin sgs_min
#define subgroupExclusiveAdd sgs_exclusive_add
#define subgroupShuffleXor sgs_shuffle_xor
#define subgroupInclusiveAdd sgs_inclusive_add
#define subgroupBroadcast sgs_broadcast
#define subgroupBroadcastFirst(v) sgs_broadcast(v, 0u)
#define subgroupBarrier barrier
#define subgroupMemoryBarrierShared memoryBarrierShared

shared uint sgs_words[WG];

// Tree reduction of sgs_words[0 .. WG) into sgs_words[0]; op 0 = float add, 1 = float max,
// 2 = float min, 3 = uint add. Leaves every thread's copy of the result and the buffer free.
uint sgs_reduce(uint word, uint op) {
  uint t = gl_LocalInvocationIndex, half_size = 1u;
  while (half_size < WG) half_size <<= 1u;
  sgs_words[t] = word;
  barrier();
  for (half_size >>= 1u; half_size > 0u; half_size >>= 1u) {
    if (t < half_size && t + half_size < WG) {
      uint a = sgs_words[t], b = sgs_words[t + half_size];
      float fa = uintBitsToFloat(a), fb = uintBitsToFloat(b);
      sgs_words[t] = op == 0u ? floatBitsToUint(fa + fb)
                   : op == 1u ? floatBitsToUint(max(fa, fb))
                   : op == 2u ? floatBitsToUint(min(fa, fb))
                              : a + b;
    }
    barrier();
  }
  uint r = sgs_words[0];
  barrier();
  return r;
}

float sgs_add(float v) { return uintBitsToFloat(sgs_reduce(floatBitsToUint(v), 0u)); }
uint sgs_add(uint v) { return sgs_reduce(v, 3u); }
float sgs_max(float v) { return uintBitsToFloat(sgs_reduce(floatBitsToUint(v), 1u)); }
float sgs_min(float v) { return uintBitsToFloat(sgs_reduce(floatBitsToUint(v), 2u)); }

// Hillis-Steele scan over the workgroup (thread order).
uint sgs_exclusive_add(uint v) {
  uint t = gl_LocalInvocationIndex;
  sgs_words[t] = v;
  barrier();
  for (uint off = 1u; off < WG; off <<= 1u) {
    uint before = t >= off ? sgs_words[t - off] : 0u;
    barrier();
    sgs_words[t] += before;
    barrier();
  }
  uint r = sgs_words[t] - v;
  barrier();
  return r;
}

uint sgs_inclusive_add(uint v) { return sgs_exclusive_add(v) + v; }

float sgs_broadcast(float v, uint lane) {
  uint t = gl_LocalInvocationIndex;
  if (t == lane) sgs_words[0] = floatBitsToUint(v);
  barrier();
  float r = uintBitsToFloat(sgs_words[0]);
  barrier();
  return r;
}

uint sgs_broadcast(uint v, uint lane) {
  uint t = gl_LocalInvocationIndex;
  if (t == lane) sgs_words[0] = v;
  barrier();
  uint r = sgs_words[0];
  barrier();
  return r;
}

float sgs_shuffle_xor(float v, uint mask) {
  uint t = gl_LocalInvocationIndex, o = t ^ mask;
  sgs_words[t] = floatBitsToUint(v);
  barrier();
  float r = o < WG ? uintBitsToFloat(sgs_words[o]) : v;
  barrier();
  return r;
}
