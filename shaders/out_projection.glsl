// A decode row's output projection inside the last pass of a head (the includer's last workgroup
// of head h, after the head's d outputs are in shared memory): the head's partial
// y_h = W[:, h d .. h d + d) o_h over all C output channels goes to partial row h; the last head to
// finish (a second atomic counter) adds the H partials in head order, times the row scales, plus
// the bias, to x. This replaces the out-projection mat-vec pass and its barrier. Every workgroup
// of the dispatch has read x (if at all) before it counted itself, so x is free to change by then.
// One thread per output channel: its d / OEU 16-byte units of W are independent loads, all in
// flight (host: d * element bytes % 16 == 0, C * element bytes % 16 == 0).
// The includer defines OTYPE_SPEC_ID and
//   OP_W16(i)      unit i of W (C x C rows in 16-byte units, OTYPE),
//   OP_PARTIAL(i)  float lvalue of the [H, C] partials (coherent),
//   OP_COUNTER     uint lvalue of the heads' counter (zero, and left at zero; coherent),
//   OP_X(i)        float lvalue of x,
//   OP_PARAM(i)    float: W's row scales [C] then its bias [C],
//   op_in          the head's d outputs (shared float array),
// and calls project_out with workgroup-uniform control flow.
layout(constant_id = OTYPE_SPEC_ID) const uint OTYPE = 3;  // W's type (F32, F16, I8); 3: no projection here
const uint OEU = OTYPE == 0u ? 4u : OTYPE == 1u ? 8u : 16u;  // elements per 16-byte unit
shared bool op_last;

vec4 op_unit_part(uvec4 p, uint i) {  // elements 4i .. 4i + 3 of a unit
  if (OTYPE == 0u) return uintBitsToFloat(p);
  if (OTYPE == 1u) return i == 0u ? vec4(unpackHalf2x16(p.x), unpackHalf2x16(p.y))
                                  : vec4(unpackHalf2x16(p.z), unpackHalf2x16(p.w));
  int q = int(p[i]);
  return vec4(bitfieldExtract(q, 0, 8), bitfieldExtract(q, 8, 8), bitfieldExtract(q, 16, 8), bitfieldExtract(q, 24, 8));
}

void project_out(uint h, uint H, uint C, uint d) {
  const uint tid = gl_LocalInvocationID.x;
  barrier();  // op_in holds the head's outputs
  for (uint m = tid; m < C; m += WG) {
    float acc = 0.0;
    for (uint u = 0u; u < d / OEU; ++u) {
      uvec4 p = OP_W16((m * C + h * d) / OEU + u);
      for (uint i = 0u; i < OEU / 4u; ++i) {
        uint c = u * OEU + 4u * i;
        acc += dot(op_unit_part(p, i), vec4(op_in[c], op_in[c + 1u], op_in[c + 2u], op_in[c + 3u]));
      }
    }
    OP_PARTIAL(h * C + m) = acc;
  }
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) op_last = atomicAdd(OP_COUNTER, 1u) == H - 1u;
  barrier();
  if (!op_last) return;  // uniform: shared flag
  memoryBarrierBuffer();
  for (uint m = tid; m < C; m += WG) {
    float y = 0.0;
    for (uint hh = 0u; hh < H; ++hh) y += OP_PARTIAL(hh * C + m);
    OP_X(m) += y * OP_PARAM(m) + OP_PARAM(C + m);
  }
  if (tid == 0u) OP_COUNTER = 0u;
}
