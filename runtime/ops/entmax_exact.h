// The exact threshold engine shared by sparsemax (r = 1), entmax α = 1.5 (r = 2) and α = 4/3 (r = 3).
//
// For α = 1 + 1/r, with z_i = (s_i - max s)/r (so max z = 0), p_i = [z_i - τ]_+^r and τ solves
// f(τ) = Σ_i [z_i - τ]_+^r - 1 = 0 (f is continuous and strictly decreasing where it is positive).
//
// Why only candidates z_i > -1 matter (the bracket): f(-1) ≥ (0 - (-1))^r - 1 = 0 because the argmax
// alone contributes 1, so τ ≥ -1; hence every z_i ≤ -1 has z_i - τ ≤ 0 and p_i = 0 exactly.
//
// The threshold is exact, not iterated to a budget: iterations only *discard* entries that are
// provably outside the support; τ itself is the closed form on the final set, and it is accepted only
// when that set is exactly {i : z_i > τ} (see entmax_exact.cpp). Any doubt ends in the sorted-prefix
// algorithm (docs/attention.md), which is exact by construction.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::ops {

// Moments of a set of centred scores (in double): count, Σz, Σz², Σz³.
struct ActiveMoments {
  size_t count = 0;
  double s1 = 0.0, s2 = 0.0, s3 = 0.0;
};

// Closed-form τ solving Σ_{set} (z - τ)^r = 1 with every member assumed in the support.
double sparsemax_threshold(const ActiveMoments& m);  // r = 1, ops/sparsemax.cpp
double entmax15_threshold(const ActiveMoments& m);   // r = 2, ops/entmax15.cpp
double entmax43_threshold(const ActiveMoments& m);   // r = 3, ops/entmax43.cpp
double closed_form_threshold(int r, const ActiveMoments& m);

// τ for the candidates z[0..m) (centred, max 0, all > -1). Reorders/overwrites z. r ∈ {1, 2, 3}.
double entmax_threshold_exact(int r, float* z, size_t m);
// The sorted-prefix definition (docs/attention.md): sort descending, prefix moments, support = largest ρ with τ_ρ <
// z_(ρ).
double entmax_threshold_sorted(int r, float* z, size_t m);

// Whole rows. scratch: n floats. `entmax_exact_row` is the fast path the dispatch uses;
// `entmax_full_sort_row` sorts every usable key (no bracket filter): a baseline for tests/benchmarks.
void entmax_exact_row(int r, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch);
void entmax_full_sort_row(int r, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch);

}  // namespace tessera::ops
