// Integer square root and reciprocal square root (see fixed_point.h).
#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8 {

uint32_t isqrt64(uint64_t x) {
  // Classic digit-by-digit method: one result bit per iteration, exact floor.
  uint64_t result = 0;
  uint64_t bit = uint64_t(1) << 62;
  while (bit > x) bit >>= 2;
  while (bit != 0) {
    if (x >= result + bit) {
      x -= result + bit;
      result = (result >> 1) + bit;
    } else {
      result >>= 1;
    }
    bit >>= 2;
  }
  return uint32_t(result);
}

ReciprocalSqrt reciprocal_sqrt(uint64_t x) {
  if (x == 0) return {INT32_MAX, 0};  // callers never pass 0 (they add ε); saturate
  // Normalise x = xn·2^(2k) with xn ∈ [2^60, 2^62): an even shift keeps sqrt exact in k.
  int lz = count_leading_zeros_64(x);
  int up = lz - 2;  // bring the top bit to position 61 or 60
  if (up & 1) --up;
  uint64_t xn;
  int k;  // x = xn · 2^(-up)  →  1/sqrt(x) = 2^(up/2) / sqrt(xn)
  if (up >= 0) {
    xn = x << up;
    k = up / 2;
  } else {
    xn = x >> (-up);
    k = up / 2;  // negative
  }
  const uint64_t s = isqrt64(xn);  // ∈ [2^30, 2^31)
  uint64_t m = (uint64_t(1) << 61) / s;  // ∈ (2^30, 2^31]
  int e = 61;
  if (m >= (uint64_t(1) << 31)) {
    m >>= 1;
    --e;
  }
  // 1/sqrt(x) = m·2^-61 · 2^k  →  exponent e - k.
  return {int32_t(m), e - k};
}

}  // namespace tessera::ops::int8
