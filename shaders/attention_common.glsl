// Shared by the attention passes: which keys a query row sees, and where its score row lives.
// Score rows are [row_local * H + h] with stride s_stride; a row sees keys [0, nk).
// Causal rows (mask_offset >= 1, context memory): query t = pos0 + row_base + row_local sees
// j <= t - mask_offset. Non-causal (mask_offset 0, persistent memory): nkeys_fixed slots.
int row_keys(uint row_local, uint row_base, uint mask_offset, uint nkeys_fixed) {
  return visible_keys(step.pos0 + row_base + row_local, mask_offset, nkeys_fixed);
}
