// Cosines q · k_j for the WG keys of one chunk, into shared cs[] (NEG_INF beyond the visible keys).
// A subgroup works on several keys at once: KL lanes per key (d/8 rounded down to a power of two,
// at most the subgroup), each lane reading every KL-th element, so rows are read coalesced and
// many loads are in flight. Each lane keeps an error-free (TwoProduct + TwoSum) partial sum and the
// butterfly merge stays compensated: heads with beta^2 = e^10 turn 1e-7 relative errors of c into
// 2e-3 score errors, so the result keeps ~1 ulp.
// Needs qs[] (the query, d floats) filled and a barrier before the call.
#extension GL_KHR_shader_subgroup_shuffle : require
shared float cs[WG];

void chunk_cosines(uint chunk, int nk, uint head_base, uint key_stride, uint d) {
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
      for (uint i = sub; i < d; i += KL) {
        precise float a = qs[i], b = k[kb + i];
        precise float p = a * b;
        precise float pe = fma(a, b, -p);  // exact product error
        precise float t = sum + p;          // TwoSum(sum, p)
        precise float z = t - sum;
        err += (sum - (t - z)) + (p - z) + pe;
        sum = t;
      }
    }
    for (uint off = KL >> 1u; off > 0u; off >>= 1u) {  // stays inside each key's KL lanes
      precise float os = subgroupShuffleXor(sum, off);
      precise float oe = subgroupShuffleXor(err, off);
      precise float t = sum + os;
      precise float z = t - sum;
      err = err + oe + ((sum - (t - z)) + (os - z));
      sum = t;
    }
    if (sub == 0u && jj < WG) cs[jj] = valid ? sum + err : NEG_INF;
  }
  barrier();
}
