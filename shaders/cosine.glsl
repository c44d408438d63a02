// Cosines q · k_j for the WG keys of one chunk, into shared cs[] (NEG_INF beyond the visible keys).
// One subgroup per key at a time: lanes read consecutive elements (coalesced rows), each lane keeps
// an error-free (TwoProduct + TwoSum) partial sum, and the butterfly merge stays compensated, so the
// result keeps ~1 ulp: heads with beta^2 = e^10 turn 1e-7 relative errors into 2e-3 score errors.
// Needs qs[] (the query, d floats) filled and a barrier before the call.
#extension GL_KHR_shader_subgroup_shuffle : require
shared float cs[WG];

void chunk_cosines(uint chunk, int nk, uint head_base, uint key_stride, uint d) {
  uint S = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
  for (uint jj = gl_SubgroupID; jj < WG; jj += gl_NumSubgroups) {
    uint j = chunk * WG + jj;
    if (int(j) >= nk) {  // uniform per subgroup
      if (lane == 0u) cs[jj] = NEG_INF;
      continue;
    }
    uint kb = head_base + j * key_stride;
    precise float sum = 0.0, err = 0.0;
    for (uint i = lane; i < d; i += S) {
      precise float a = qs[i], b = k[kb + i];
      precise float p = a * b;
      precise float pe = fma(a, b, -p);  // exact product error
      precise float t = sum + p;          // TwoSum(sum, p)
      precise float z = t - sum;
      err += (sum - (t - z)) + (p - z) + pe;
      sum = t;
    }
    for (uint off = S >> 1u; off > 0u; off >>= 1u) {
      precise float os = subgroupShuffleXor(sum, off);
      precise float oe = subgroupShuffleXor(err, off);
      precise float t = sum + os;
      precise float z = t - sum;
      err = err + oe + ((sum - (t - z)) + (os - z));
      sum = t;
    }
    if (lane == 0u) cs[jj] = sum + err;
  }
  barrier();
}
