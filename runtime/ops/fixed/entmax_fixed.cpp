// Fixed-point sparsemax (r = 1), entmax α = 1.5 (r = 2) and α = 4/3 (r = 3), integer only.
//
// With D_i = (max s - s_i)/r ≥ 0 in Q11.20 (the float path's z = -D) and T = -τ:
// p_i = [T - D_i]_+^r, Σ p_i = 1. Bracket: T ≤ 1 (the argmax alone has mass T^r), so only D_i < 1
// can be in the support; the others never enter the sort.
// 1. Support, exactly: sort candidates ascending; k* = largest ρ with Σ_{j<ρ}(D_ρ - D_j)^r < 1, an
//    exact int64 sum of Q(20r) terms (≤ 2^60 each) with early exit; monotone in ρ → binary search.
//    The test at ρ = m needs no order (it sums over every candidate against the largest), and trained
//    rows usually pass it (all candidates in the support): then nothing is sorted, since every later
//    step only sums over the support or reads each key's own D_i. When it fails, the few largest
//    distinct D's are tested downwards (support_from_top); only rows with many keys outside the
//    support are sorted.
// 2. Threshold on the support: r = 1 exact rational T = (1 + ΣD)/k (one integer division per output);
//    r = 2 closed form with an integer square root; r = 3 cancellation-free Cardano with an integer
//    square root and an integer cube root; both then polished by Newton steps in Q.31 (the closed
//    forms are evaluated in Q20/Q30 to keep every product inside 64 bits).
// 3. Output: numerators (T - D_i)^r rounded to Q1.15 by CumulativeRounder: Σp = 32768 exactly.
// The passes over every key (the candidates' D_i, the numerators) are in entmax_keys.cpp (SIMD on x86-64).
#include "ops/fixed/fixed_math.h"

namespace tessera::ops::fixed {
namespace {

const uint32_t kOneQ20 = 1u << 20;
const uint64_t kOneQ31 = uint64_t{1} << 31;

// Σ_{j<count}(top - D_j)^r < 1 for D_j ≤ top. With top = D_ρ (sorted d, count = ρ - 1): the ρ-th
// smallest candidate is in the support (τ < z_ρ).
bool mass_below_one(int r, const uint32_t* d, size_t count, uint64_t top) {
  const uint64_t limit = uint64_t{1} << (20 * r);
  uint64_t sum = 0;
  for (size_t j = 0; j < count; ++j) {
    uint64_t y = top - d[j];
    sum += r == 1 ? y : r == 2 ? y * y : y * y * y;
    if (sum >= limit) return false;
  }
  return true;
}
bool in_support(int r, const uint32_t* d, size_t rho) { return mass_below_one(r, d, rho - 1, d[rho - 1]); }

// The support when in_support(m) failed, found from the top: the keys outside the support are the
// largest D's, usually few, so test the distinct values downwards (ties share the verdict) and
// compact the support to d[0..k). Gives up after kMaxPeel values (then sort and binary search).
// Returns k (0: gave up).
// below: the largest D under d_max (from the failed test at d_max).
size_t support_from_top(int r, uint32_t* d, size_t m, uint32_t d_max, uint32_t below, uint32_t* d_top,
                        uint64_t* hi_q31) {
  const int kMaxPeel = 8;
  uint32_t top = d_max;
  for (int peel = 0; peel < kMaxPeel; ++peel) {
    const uint32_t failed = top;
    top = below;
    if (!entmax_mass_below_one(r, d, m, top, &below)) continue;
    size_t k = 0;
    for (size_t j = 0; j < m; ++j)
      if (d[j] <= top) d[k++] = d[j];
    *d_top = top;
    *hi_q31 = static_cast<uint64_t>(failed) << 11;
    return k;
  }
  return 0;
}

// Closed-form T (Q20) for r = 2 on the support d[0..k).
int64_t threshold_r2_q20(const uint32_t* d, size_t k) {
  uint64_t sum = 0;
  for (size_t j = 0; j < k; ++j) sum += d[j];
  uint64_t mu = sum / k, rem = sum - mu * k;
  uint64_t v = 0;  // Σ(D - μ)², ≤ k·2^40
  for (size_t j = 0; j < k; ++j) {
    int64_t e = static_cast<int64_t>(d[j]) - static_cast<int64_t>(mu);
    v += static_cast<uint64_t>(e * e);
  }
  // Σ(x - e_j)² = k x² - 2 rem x + V = 1 (Q40) for x = T - μ:  x = (rem + sqrt(rem² + k(1 - V)))/k.
  const uint64_t one40 = uint64_t{1} << 40;
  uint64_t slack = v < one40 ? one40 - v : 0;
  uint64_t disc = rem * rem + k * slack;
  return static_cast<int64_t>(mu + (rem + isqrt_u64(disc)) / k);
}

// Closed-form T (Q20) for r = 3 on the support d[0..k): Cardano on x = T - μ,
// x³ + p x + q = 0 with p = 3V/k, q = -(W + 1)/k (the O(rem) term is left to the Newton polish).
int64_t threshold_r3_q20(const uint32_t* d, size_t k) {
  uint64_t sum = 0;
  for (size_t j = 0; j < k; ++j) sum += d[j];
  const int64_t mu = static_cast<int64_t>(sum / k);
  uint64_t v = 0;   // Σe² in Q40
  int64_t w40 = 0;  // Σe³ in Q40 (each e³ ≤ 2^60, shifted by 20 before summing)
  for (size_t j = 0; j < k; ++j) {
    int64_t e = static_cast<int64_t>(d[j]) - mu;
    v += static_cast<uint64_t>(e * e);
    int64_t e3 = e * e * e;
    w40 += e3 >= 0 ? (e3 >> 20) : -((-e3) >> 20);
  }
  const int64_t kk = static_cast<int64_t>(k);
  int64_t p3 = static_cast<int64_t>((v / k) >> 10);         // p/3 = V/k in Q30, ≤ 2^30
  int64_t q30 = -((w40 + (int64_t{1} << 40)) / kk) / 1024;  // Q30, |q| ≤ 2
  uint64_t aq = static_cast<uint64_t>(q30 < 0 ? -q30 : q30);
  uint64_t disc60 = aq * aq / 4 + ((static_cast<uint64_t>(p3 * p3) >> 30) * static_cast<uint64_t>(p3));
  uint64_t a_cubed_q30 = aq / 2 + isqrt_u64(disc60);
  uint64_t a30 = icbrt_u64(a_cubed_q30 << 30) << 10;  // cube root of Q60 is Q20; back to Q30
  if (a30 == 0) return mu;                            // p = q = 0
  uint64_t a2 = (a30 * a30) >> 30;
  uint64_t den = a2 + static_cast<uint64_t>(p3) + (a2 ? static_cast<uint64_t>(p3 * p3) / a2 : 0);
  int64_t x30 = (-q30) * (int64_t{1} << 30) / static_cast<int64_t>(den);
  return mu + x30 / 1024;
}

// Safeguarded Newton on h(T) = Σ_{j<k}(T - D_j)^r - 1 in Q.31 inside the support's bracket: h < 0 at
// lo = max of the support's D (the support test passed) and h ≥ 0 at hi = the next candidate's D (or 1).
// Bisection whenever the Newton step would leave the bracket or |h| is too large for the 64-bit step.
// d[0..k) in any order. *mass_out: Σ y^r at the returned t (from the step that evaluated it, or summed once
// more when none did).
uint64_t polish_q31(int r, const uint32_t* d, size_t k, uint32_t d_top, uint64_t hi, int64_t t20, uint64_t* mass_out) {
  uint64_t lo = static_cast<uint64_t>(d_top) << 11;
  uint64_t t = t20 <= 0 ? 0 : static_cast<uint64_t>(t20) << 11;
  if (t <= lo || t > hi) t = lo + (hi - lo + 1) / 2;
  bool hi_known = false;  // the initial hi (next D, or 1) was never summed
  uint64_t mass_hi = 0, slope_unused;
  for (int iter = 0; iter < 64; ++iter) {
    uint64_t mass, slope;  // Σ y^r (Q31) and Σ r·y^(r-1) (Q31)
    entmax_power_sums_q31(r, d, k, t, &mass, &slope);
    *mass_out = mass;
    int64_t h = static_cast<int64_t>(mass) - static_cast<int64_t>(kOneQ31);
    if (h == 0) return t;
    if (h > 0) {
      hi = t;
      hi_known = true;
      mass_hi = mass;
    } else {
      lo = t;
    }
    if (hi - lo <= 1) {
      if (hi_known) *mass_out = mass_hi;
      else entmax_power_sums_q31(r, d, k, hi, mass_out, &slope_unused);
      return hi;
    }
    uint64_t next = lo + (hi - lo + 1) / 2;  // bisection unless Newton is safe and inside
    const int64_t kLimit = int64_t{1} << 31;
    if (slope != 0 && h < kLimit && h > -kLimit) {
      int64_t nt = static_cast<int64_t>(t) - h * static_cast<int64_t>(kOneQ31) / static_cast<int64_t>(slope);
      if (nt > static_cast<int64_t>(lo) && nt <= static_cast<int64_t>(hi)) next = static_cast<uint64_t>(nt);
    }
    if (next == t) return t;
    t = next;
  }
  entmax_power_sums_q31(r, d, k, t, mass_out, &slope_unused);
  return t;
}

}  // namespace

void entmax_fixed(int r, const int32_t* q, ScoreScale scale, int32_t* p, size_t n, const uint8_t* mask,
                  int32_t* scratch) {
  int32_t qmax;
  if (!usable_max(q, n, mask, &qmax)) {
    for (size_t i = 0; i < n; ++i) p[i] = 0;
    return;
  }
  // scratch: the candidates' values d[0..m) (sorted only when the support is not all of them). Until
  // the output, p[i] holds candidate i's D_i (< 2^20), or -1 for keys that stay 0.
  uint32_t* d = reinterpret_cast<uint32_t*>(scratch);
  uint32_t d_max = 0;
  const size_t m = entmax_candidates(r, q, n, mask, qmax, scale, p, d, &d_max);  // bracket: D ≥ 1 never counts
  size_t k = m;
  uint32_t d_top = d_max;     // max D over the support
  uint64_t hi_q31 = kOneQ31;  // the first D outside the support (or 1), Q.31
  uint32_t below = 0;
  if (!entmax_mass_below_one(r, d, m, d_max, &below)) k = support_from_top(r, d, m, d_max, below, &d_top, &hi_q31);
  if (k == 0) {  // in_support(m) fails and the support is well below m: sort, binary search below m
    heapsort_u32(d, m);
    size_t lo = 1, hi = m - 1;  // in_support(1) always holds (d[0] = 0: the max)
    while (lo < hi) {
      size_t mid = lo + (hi - lo + 1) / 2;
      if (in_support(r, d, mid)) lo = mid;
      else hi = mid - 1;
    }
    k = lo;
    d_top = d[k - 1];
    hi_q31 = static_cast<uint64_t>(d[k]) << 11;
  }

  if (r == 1) {  // exact rational: p_i = (1 + ΣD - k D_i)/k
    uint64_t sum = 0;
    for (size_t j = 0; j < k; ++j) sum += d[j];
    const int64_t base = static_cast<int64_t>(kOneQ20 + sum);
    CumulativeRounder round(static_cast<uint64_t>(k) * kOneQ20);
    if (base < (int64_t{1} << 32)) {  // the numerators fit 32 bits: one pass computes them (SIMD)
      entmax_numerators(1, 0, base, k, p, n);
      for (size_t i = 0; i < n; ++i) p[i] = round.next(static_cast<uint32_t>(p[i]));
      return;
    }
    for (size_t i = 0; i < n; ++i) {  // only candidates can be non-zero (a zero numerator is a no-op)
      if (p[i] < 0) {
        p[i] = 0;
        continue;
      }
      int64_t num = base - static_cast<int64_t>(k) * p[i];
      p[i] = round.next(num > 0 ? static_cast<uint64_t>(num) : 0);
    }
    return;
  }

  int64_t t20 = r == 2 ? threshold_r2_q20(d, k) : threshold_r3_q20(d, k);
  uint64_t total;  // Σ (t - D_j)^r over the support, the numerators' sum
  const uint64_t t = polish_q31(r, d, k, d_top, hi_q31, t20, &total);
  CumulativeRounder round(total ? total : 1);
  entmax_numerators(r, t, 0, 0, p, n);  // (t - D_i)^r ≤ 2^31 (t ≤ 2^31): uint32 (SIMD)
  for (size_t i = 0; i < n; ++i) p[i] = round.next(static_cast<uint32_t>(p[i]));
}

}  // namespace tessera::ops::fixed
