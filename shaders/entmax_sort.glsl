// The exact sorted threshold in shared memory (spec entmax.md) for r = 1, 2, 3: cand[0, count) holds
// the candidates y > -1; they are bitonic-sorted descending, prefix-summed (S1, S2, S3), every prefix
// rho is tested in parallel (tau_rho < y_(rho)) and tau is the closed form at the support size k*.
// Needs CAP (power of two >= count), kstar = 0 and a barrier before the call; uniform control flow.
shared float cand[CAP];
shared float pre1[CAP];
shared float pre2[CAP];
shared float pre3[CAP];
shared float block_tot[3 * WG];
shared uint kstar;

float sorted_tau(uint count, uint r) {
  uint tid = gl_LocalInvocationID.x;
  uint p2 = 1u;
  while (p2 < count) p2 <<= 1u;
  for (uint i = count + tid; i < p2; i += WG) cand[i] = NEG_INF;
  barrier();
  for (uint kb = 2u; kb <= p2; kb <<= 1u) {
    for (uint jb = kb >> 1u; jb > 0u; jb >>= 1u) {
      for (uint i = tid; i < p2; i += WG) {
        uint l = i ^ jb;
        if (l > i) {
          float a = cand[i], b = cand[l];
          bool descending = (i & kb) == 0u;
          if (descending ? (a < b) : (a > b)) { cand[i] = b; cand[l] = a; }
        }
      }
      barrier();
    }
  }
  // Blocked prefix sums: each thread scans a contiguous block serially, then adds the block offsets.
  uint blk = (count + WG - 1u) / WG;
  uint b0 = min(tid * blk, count), b1 = min(b0 + blk, count);
  float a1 = 0.0, a2 = 0.0, a3 = 0.0;
  for (uint i = b0; i < b1; ++i) {
    float y = cand[i];
    a1 += y; a2 += y * y; a3 += y * y * y;
    pre1[i] = a1; pre2[i] = a2; pre3[i] = a3;
  }
  // Block offsets: subgroup exclusive scans, then the subgroup totals in order (no serial pass over
  // WG blocks in one thread).
  float e1 = subgroupExclusiveAdd(a1), e2 = subgroupExclusiveAdd(a2), e3 = subgroupExclusiveAdd(a3);
  float t1 = subgroupAdd(a1), t2 = subgroupAdd(a2), t3 = subgroupAdd(a3);
  if (subgroupElect()) {
    block_tot[gl_SubgroupID] = t1; block_tot[WG + gl_SubgroupID] = t2; block_tot[2u * WG + gl_SubgroupID] = t3;
  }
  barrier();
  for (uint g = 0u; g < gl_SubgroupID; ++g) {
    e1 += block_tot[g]; e2 += block_tot[WG + g]; e3 += block_tot[2u * WG + g];
  }
  for (uint i = b0; i < b1; ++i) {
    pre1[i] += e1; pre2[i] += e2; pre3[i] += e3;
  }
  barrier();
  for (uint i = tid; i < count; i += WG) {
    float rho = float(i + 1u);
    if (prefix_tau(r, rho, pre1[i], pre2[i], pre3[i]) < cand[i]) atomicMax(kstar, i + 1u);
  }
  barrier();
  uint k = max(kstar, 1u);
  return prefix_tau(r, float(k), pre1[k - 1u], pre2[k - 1u], pre3[k - 1u]);
}
