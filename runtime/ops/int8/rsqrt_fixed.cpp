// Integer square root and reciprocal square root (see fixed_point.h).
#include "ops/int8/fixed_point.h"

namespace tessera::ops::int8 {

namespace {

// Digit by digit, one result bit per step: exact floor. Used at compile time for the table below.
constexpr uint32_t isqrt_digits(uint64_t x) {
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

// For x normalised into [2^60, 2^62) (top 8 bits i ∈ [64, 256)): kUpper[i] > sqrt((i + 1)·2^54), an upper
// bound of sqrt over the whole bucket, within ~0.4 % (the width of a bucket at i ≥ 64).
struct UpperTable {
  uint32_t v[256];
};
constexpr UpperTable make_upper() {
  UpperTable t{};
  for (uint64_t i = 64; i < 256; ++i) t.v[i] = isqrt_digits((i + 1) << 54) + 1;
  return t;
}
constexpr UpperTable kUpper = make_upper();

}  // namespace

uint32_t isqrt64(uint64_t x) {
  // Newton's integer step r ← (r + x/r)/2 never goes below floor(sqrt x) from any r ≥ 1 (AM–GM, floors
  // included), so two steps from a table start within ~0.4 % leave r ≥ floor(sqrt x) and (relative error
  // ~(0.004²/2)²/2 ≈ 3·10^-11) at most about one above it; the last decrements test r² > x directly:
  // exact whatever the start. Two divisions where the digit loop took 31 data-dependent branches.
  if (x == 0) return 0;
  int up = count_leading_zeros_64(x) - 2;  // even shift bringing x into [2^60, 2^62)
  if (up & 1) --up;
  uint64_t r;
  if (up >= 0) {
    const int h = up / 2;  // sqrt(x) = sqrt(x·2^up)/2^h ≤ kUpper/2^h: round that up
    r = (uint64_t(kUpper.v[(x << up) >> 54]) + (uint64_t(1) << h) - 1) >> h;
  } else {  // x ≥ 2^62: x >> 2 lost bits, but sqrt(x) ≤ 2·sqrt((x >> 2) + 1) ≤ 2·kUpper
    r = uint64_t(kUpper.v[(x >> 2) >> 54]) << 1;
  }
  r = (r + x / r) >> 1;
  r = (r + x / r) >> 1;
  while (r > 0xFFFFFFFFu || r * r > x) --r;  // r ≤ 2^32 - 1 keeps r² inside uint64
  return uint32_t(r);
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
  const uint64_t s = isqrt64(xn);        // ∈ [2^30, 2^31)
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
