// Workgroup reductions: subgroup arithmetic, then one shared slot per subgroup, summed in a fixed
// order by every thread (deterministic, no atomics). Callers must be in uniform control flow.
shared float reduce_slots[WG];

float wg_sum(float v) {
  v = subgroupAdd(v);
  if (subgroupElect()) reduce_slots[gl_SubgroupID] = v;
  barrier();
  float total = 0.0;
  for (uint i = 0u; i < gl_NumSubgroups; ++i) total += reduce_slots[i];
  barrier();
  return total;
}

float wg_max(float v) {
  v = subgroupMax(v);
  if (subgroupElect()) reduce_slots[gl_SubgroupID] = v;
  barrier();
  float m = NEG_INF;
  for (uint i = 0u; i < gl_NumSubgroups; ++i) m = max(m, reduce_slots[i]);
  barrier();
  return m;
}
