// Error-free dot products: each lane keeps a compensated partial sum (TwoProduct + TwoSum per
// term), and a compensated butterfly merges the partials of KL lanes. Used by the decode cosines
// (cosine.glsl), the persistent memory's decode scores (pmem_decode.comp) and the prompt tiles'
// cosines (attn_prefill_fma.glsl, comp_fma only). comp_merge needs subgroup shuffles (or
// subgroup_shared.glsl's emulation).
// TwoProduct + TwoSum of a * b into (sum, err).
void comp_fma(float a, float b, inout precise float sum, inout precise float err) {
  precise float p = a * b;
  precise float pe = fma(a, b, -p);  // exact product error
  precise float t = sum + p;          // TwoSum(sum, p)
  precise float z = t - sum;
  err += (sum - (t - z)) + (p - z) + pe;
  sum = t;
}

// Compensated butterfly over the KL lanes of one key (lanes aligned to KL inside the subgroup).
// A counted loop (KL < 256), so that callers' loops around it unroll.
void comp_merge(uint KL, inout precise float sum, inout precise float err) {
  [[unroll]] for (uint b = 1u; b <= 8u; ++b) {
    uint off = KL >> b;
    if (off > 0u) {
      precise float os = subgroupShuffleXor(sum, off);
      precise float oe = subgroupShuffleXor(err, off);
      precise float t = sum + os;
      precise float z = t - sum;
      err = err + oe + ((sum - (t - z)) + (os - z));
      sum = t;
    }
  }
}
