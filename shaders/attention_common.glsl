// Shared by the attention passes: which keys a query row sees, and where its score row lives.
// Score rows are [row_local * H + h] with stride s_stride; a row sees keys [0, nk).
// Causal rows (mask_offset >= 1, context memory): query t = pos0 + row_base + row_local sees
// j <= t - mask_offset. Non-causal (mask_offset 0, persistent memory): nkeys_fixed slots.
int row_keys(uint row_local, uint row_base, uint mask_offset, uint nkeys_fixed) {
  return visible_keys(step.pos0 + row_base + row_local, mask_offset, nkeys_fixed);
}

// Keys per chunk of a one-pass attention over nk keys: whole units (the tile a workgroup takes at
// once), as few per chunk as keep the chunks within max_chunks. Short contexts get small chunks
// (many workgroups in flight), long ones a bounded number of partials to merge.
uint chunk_keys_for(uint nk, uint unit, uint max_chunks) {
  uint units = (nk + unit - 1u) / unit;
  return unit * max(1u, (units + max_chunks - 1u) / max_chunks);
}
