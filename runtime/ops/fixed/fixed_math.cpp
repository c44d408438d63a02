#include "ops/fixed/fixed_math.h"

#include "ops/int8/fixed_point.h"  // isqrt64 (freestanding, integer only)

namespace tessera::ops::fixed {
namespace {

// round(a·b / 2^31) for Q0.31 operands (gemmlowp's SaturatingRoundingDoublingHighMul, without the
// saturating corner: our operands are never both -2^31).
inline int32_t mul_q31(int32_t a, int32_t b) {
  int64_t prod = static_cast<int64_t>(a) * b;
  return static_cast<int32_t>((prod + (int64_t{1} << 30)) >> 31);
}

// e^x on x ∈ [-1/4, 0) in Q0.31: e^{-1/8} · e^t with t = x + 1/8 ∈ [-1/8, 1/8), e^t by its Taylor
// polynomial to degree 5 (remainder ≤ (1/8)^6/720 · e^{1/8} < 6e-9; each Q0.31 product adds ≤ 2^-32).
int32_t exp_quarter_interval(int32_t x_q31) {
  const int32_t kExpMinusOneEighth = 1895147668;  // round(e^{-1/8} · 2^31)
  const int32_t kOneSixth = 357913941;             // round(2^31/6)
  int32_t t = x_q31 + (1 << 28);                   // + 1/8
  int32_t t2 = mul_q31(t, t);
  int32_t t3 = mul_q31(t2, t);
  int32_t t4 = mul_q31(t2, t2);
  int32_t t5 = mul_q31(t4, t);
  int32_t poly = t2 / 2 + mul_q31(t3 + t4 / 4 + t5 / 20, kOneSixth);  // t²/2 + t³/6 + t⁴/24 + t⁵/120
  // e^{-1/8}·(1 + t + poly): 1 is not representable in Q0.31, so add e^{-1/8} itself.
  return kExpMinusOneEighth + mul_q31(kExpMinusOneEighth, t + poly);
}

}  // namespace

// x in Q5.26, x ≤ 0. Decompose x = -(k/4) + f with f ∈ [-1/4, 0): e^x = e^f · Π_{bits of k} e^{-2^j/4}.
int32_t exp_on_negative_q26(int32_t x) {
  if (x == 0) return INT32_MAX;
  const int32_t kOneQuarter = 1 << 24;  // 1/4 in Q5.26
  int32_t f_q26 = (x & (kOneQuarter - 1)) - kOneQuarter;  // ∈ [-1/4, 0)
  int32_t result = exp_quarter_interval(f_q26 * 32);     // Q5.26 -> Q0.31 (|f| ≤ 1/4: no overflow)
  int32_t remainder = f_q26 - x;                           // ≥ 0, a multiple of 1/4
  static const int32_t kFactors[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535,   720401,     242};  // e^{-1/4 · 2^j}, Q0.31
  for (int j = 0; j < 7; ++j)
    if (remainder & (kOneQuarter << j)) result = mul_q31(result, kFactors[j]);
  // x ≤ -32 would need e^{-32} < 2^-31·... : the Q5.26 input cannot express it; callers cut at -32.
  return result;
}

bool usable_max(const int32_t* q, size_t n, const uint8_t* mask, int32_t* out_max) {
  if (mask == nullptr) {  // every key usable (the runtimes' rows): a plain max the compiler vectorises
    int32_t m = INT32_MIN;
    for (size_t i = 0; i < n; ++i) m = q[i] > m ? q[i] : m;
    *out_max = m;
    return n > 0;
  }
  bool any = false;
  int32_t m = INT32_MIN;
  for (size_t i = 0; i < n; ++i) {
    if (!usable_key(mask, i)) continue;
    any = true;
    m = q[i] > m ? q[i] : m;
  }
  *out_max = m;
  return any;
}

// ops/int8's exact floor square root (two Newton steps from a table, then an r² > x correction) rather
// than a digit loop of 32 data-dependent branches: the same value.
uint64_t isqrt_u64(uint64_t x) { return ops::int8::isqrt64(x); }

uint64_t icbrt_u64(uint64_t x) {
  // Newton's integer step r ← (2r + x/r²)/3 never goes below floor(cbrt x) from any r ≥ 1 (AM–GM, floors
  // included) and decreases while r is above it, so the first step that does not decrease ends at the
  // exact floor. Start: 2^ceil(bits/3) ≥ cbrt(x) (≤ 2^22: r² stays far inside 64 bits).
  if (x == 0) return 0;
  int bits = 64;
  while (!(x >> (bits - 1))) --bits;
  uint64_t r = uint64_t{1} << ((bits + 2) / 3);
  for (;;) {
    const uint64_t y = (2 * r + x / (r * r)) / 3;
    if (y >= r) return r;
    r = y;
  }
}

namespace {
void sift_down(uint32_t* a, size_t root, size_t m) {
  while (true) {
    size_t child = 2 * root + 1;
    if (child >= m) return;
    if (child + 1 < m && a[child + 1] > a[child]) ++child;
    if (a[root] >= a[child]) return;
    uint32_t t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}
}  // namespace

void heapsort_u32(uint32_t* a, size_t m) {
  if (m < 2) return;
  for (size_t i = m / 2; i-- > 0;) sift_down(a, i, m);
  for (size_t end = m - 1; end > 0; --end) {
    uint32_t t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}

}  // namespace tessera::ops::fixed
