// LayerNorm statistics of a tile of token rows, shared by the tiled matrix products (matmul*.comp).
// The includer declares x4, pc.{n, x_offset, x_stride, ln_eps} and the constants WG, BM, KC, K4.
shared vec2 ln_stats[BM];
shared float ln_part[WG];

// Mean and 1/sqrt(var + eps) of the tile's token rows (two passes, like matvec_core.glsl), WG / BM
// threads per row (the host keeps WG a multiple of BM or BM a multiple of WG).
void tile_ln_statistics(uint r0) {
  const uint tid = gl_LocalInvocationID.x;
  const uint parts = max(WG / BM, 1u);
  for (uint base = 0u; base < BM; base += WG / parts) {
    uint rr = base + tid % (WG / parts), part = tid / (WG / parts);
    bool live = rr < BM && r0 + rr < pc.n;
    uint b4 = live ? (pc.x_offset + (r0 + rr) * pc.x_stride) / 4u : 0u;
    float s = 0.0;
    if (live)
      for (uint k = part; k < K4; k += parts) { vec4 v = x4[b4 + k]; s += v.x + v.y + v.z + v.w; }
    ln_part[tid] = s;
    barrier();
    float mu = 0.0;
    for (uint p = 0u; p < parts; ++p) mu += ln_part[p * (WG / parts) + tid % (WG / parts)];
    mu /= float(KC);
    barrier();
    float q = 0.0;
    if (live)
      for (uint k = part; k < K4; k += parts) { vec4 dv = x4[b4 + k] - mu; q += dot(dv, dv); }
    ln_part[tid] = q;
    barrier();
    if (part == 0u && rr < BM) {
      float var = 0.0;
      for (uint p = 0u; p < parts; ++p) var += ln_part[p * (WG / parts) + tid % (WG / parts)];
      ln_stats[rr] = vec2(mu, inversesqrt(var / float(KC) + pc.ln_eps));
    }
    barrier();
  }
}

