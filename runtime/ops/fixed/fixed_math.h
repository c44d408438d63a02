// Integer building blocks of the fixed-point transforms (internal to runtime/ops/fixed/).
// Freestanding: <stdint.h>/<stddef.h> only; 64-bit integer arithmetic (on Cortex-M4 the compiler's
// integer helpers __aeabi_lmul/__aeabi_uldivmod, never float ones).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ops/fixed/attention_fixed.h"

namespace tessera::ops::fixed {

inline bool usable_key(const uint8_t* mask, size_t i) { return mask == nullptr || mask[i] != 0; }

// Max over usable keys; returns false when there is none.
bool usable_max(const int32_t* q, size_t n, const uint8_t* mask, int32_t* out_max);

// round(diff · S · 2^frac_bits / divisor), saturated at `sat` (diff = max q - q_i ≥ 0). Inline: it runs
// once per key inside every transform's row loop, where the divisor switch and shift then hoist.
inline uint32_t scaled_difference(uint32_t diff, ScoreScale scale, int frac_bits, uint32_t divisor, uint32_t sat) {
  uint64_t prod = static_cast<uint64_t>(diff) * static_cast<uint32_t>(scale.multiplier);  // < 2^63
  switch (divisor) {  // constant divisors: no run-time 64-bit division in the per-key path
    case 1: break;
    case 2: prod >>= 1; break;
    case 3: prod /= 3; break;
    default: prod /= divisor; break;
  }
  int amount = 31 - scale.shift - frac_bits;
  uint64_t v;
  if (amount >= 64) {
    v = 0;
  } else if (amount > 0) {
    v = (prod + (uint64_t{1} << (amount - 1))) >> amount;
  } else if (amount == 0) {
    v = prod;
  } else {
    int left = -amount;
    if (left >= 63 || prod > (static_cast<uint64_t>(sat) >> left)) return sat;
    v = prod << left;
  }
  return v > sat ? sat : static_cast<uint32_t>(v);
}

uint64_t isqrt_u64(uint64_t x);  // floor(sqrt(x))
uint64_t icbrt_u64(uint64_t x);  // floor(cbrt(x))

// Σ_{j<k} y_j^r and Σ r·y_j^(r-1) in Q.31 at y_j = t - D_j·2^11 ∈ (0, 2^31] (entmax's polish, r = 2 or 3;
// per term y² → floor(y²/2^31), y³ → floor(floor(y²/2^31)·y/2^31)). entmax_power_sums.cpp: portable,
// plus an AVX2 variant chosen at run time on x86-64 (same integer results).
void entmax_power_sums_q31(int r, const uint32_t* d, size_t k, uint64_t t, uint64_t* mass, uint64_t* slope);
void entmax_power_sums_q31_portable(int r, const uint32_t* d, size_t k, uint64_t t, uint64_t* mass, uint64_t* slope);

// entmax's support test over unsorted candidates d[0..m) (D_j < 2^20, Q20): Σ_{D_j ≤ top}(top - D_j)^r < 2^(20r)
// (r = 1, 2, 3), and *below = the largest D_j < top (0 if none). entmax_mass_scan.cpp: portable, plus an
// AVX-512F variant chosen at run time on x86-64 (same verdict and *below).
bool entmax_mass_below_one(int r, const uint32_t* d, size_t m, uint32_t top, uint32_t* below);
bool entmax_mass_below_one_portable(int r, const uint32_t* d, size_t m, uint32_t top, uint32_t* below);

// entmax's per-key passes (entmax_keys.cpp: portable, plus an AVX-512F variant chosen at run time on x86-64;
// same integers). Candidates: p[i] = D_i = scaled_difference(qmax - q_i, scale, 20, r, 2^20) where D_i < 2^20
// (usable keys), else -1; the D_i < 2^20 also go to d in key order (d: n words); returns their count and
// *d_max their maximum (0 if none).
size_t entmax_candidates(int r, const int32_t* q, size_t n, const uint8_t* mask, int32_t qmax, ScoreScale scale,
                         int32_t* p, uint32_t* d, uint32_t* d_max);
size_t entmax_candidates_portable(int r, const int32_t* q, size_t n, const uint8_t* mask, int32_t qmax,
                                  ScoreScale scale, int32_t* p, uint32_t* d, uint32_t* d_max);
// Numerators in place of the candidates' D_i (p[i] < 0: 0), as uint32 bit patterns: r = 1: max(base - k·D_i, 0)
// (base < 2^32 for the result to fit: the caller checks); r = 2, 3: (t - D_i·2^11)^r in Q.31 where positive
// (t ≤ 2^31), else 0.
void entmax_numerators(int r, uint64_t t, int64_t base, uint64_t k, int32_t* p, size_t n);
void entmax_numerators_portable(int r, uint64_t t, int64_t base, uint64_t k, int32_t* p, size_t n);

// Sorts a[0..m) ascending in place (heapsort: O(m log m), no recursion, no allocation).
void heapsort_u32(uint32_t* a, size_t m);

// Turns non-negative numerators with a known total into Q1.15 outputs that sum to exactly
// kFixedProbOne: out_i = floor(C_i·2^15/T) - floor(C_{i-1}·2^15/T), C_i the running sum. Each output is
// within 1 LSB (strictly) of numerator·2^15/T. Requires T < 2^48 (see weight_shift). Zero numerators
// cost no division (sparse rows).
struct CumulativeRounder {
  explicit CumulativeRounder(uint64_t t) : total(t) {
#if defined(__SIZEOF_INT128__)
    reciprocal = ~uint64_t{0} / total;
#endif
  }
  int32_t next(uint64_t numerator) {
    if (numerator == 0) return 0;
    cum += numerator;
    uint64_t f = floor_div(cum << 15);
    int32_t out = static_cast<int32_t>(f - prev_floor);
    prev_floor = f;
    return out;
  }

 private:
  // Exact floor(x / total). With 128-bit products (x86-64, AArch64): reciprocal estimate, which is
  // q or q - 1, plus one correction; elsewhere (Cortex-M) a plain division. Same result either way.
  uint64_t floor_div(uint64_t x) const {
#if defined(__SIZEOF_INT128__)
    uint64_t q = static_cast<uint64_t>((static_cast<unsigned __int128>(x) * reciprocal) >> 64);
    uint64_t r = x - q * total;
    while (r >= total) {
      ++q;
      r -= total;
    }
    return q;
#else
    return x / total;
#endif
  }

  uint64_t total;
  uint64_t cum = 0;
  uint64_t prev_floor = 0;
#if defined(__SIZEOF_INT128__)
  uint64_t reciprocal = 0;
#endif
};

// Right shift that keeps n weights of `weight_bits` bits summing below 2^48 (CumulativeRounder's
// bound): 0 up to n = 2^(48 - weight_bits), then one bit per doubling of n.
inline int weight_shift(size_t n, int weight_bits) {
  int bits = 0;
  while (bits < 63 && (size_t{1} << bits) < n) ++bits;  // ceil(log2 n)
  int excess = bits + weight_bits - 48;
  return excess > 0 ? excess : 0;
}

}  // namespace tessera::ops::fixed
