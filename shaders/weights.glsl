// Weight rows in their stored type (specialization constant 1): 0 = F32, 1 = F16, 2 = I8 with a
// per-row F32 scale applied by the caller after the fp32 dot product. The includer declares
// `w_raw` (uint words). Rows have K elements, K % 4 == 0 (checked at load).
layout(constant_id = 1) const uint WTYPE = 0;

// One return point: early returns become structured switches that keep glslc from unrolling the
// callers' loops.
vec4 load_w4(uint row, uint unit4, uint K) {
  vec4 w;
  if (WTYPE == 0u) {
    uint b = row * K + 4u * unit4;
    w = vec4(uintBitsToFloat(w_raw[b]), uintBitsToFloat(w_raw[b + 1u]), uintBitsToFloat(w_raw[b + 2u]),
             uintBitsToFloat(w_raw[b + 3u]));
  } else if (WTYPE == 1u) {
    uint b = (row * K) / 2u + 2u * unit4;
    w = vec4(unpackHalf2x16(w_raw[b]), unpackHalf2x16(w_raw[b + 1u]));
  } else {
    int q = int(w_raw[(row * K) / 4u + unit4]);
    w = vec4(bitfieldExtract(q, 0, 8), bitfieldExtract(q, 8, 8), bitfieldExtract(q, 16, 8),
             bitfieldExtract(q, 24, 8));
  }
  return w;
}
