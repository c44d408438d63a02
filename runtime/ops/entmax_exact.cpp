#include "ops/entmax_exact.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "ops/row_common.h"
#include "ops/simd8.h"

namespace tessera::ops {
namespace {

// Centred, scaled score. Every pass computes it with this one expression so that the candidates the
// threshold is solved on and the values the output pass uses are bit-identical floats.
inline float centred(float s, float m, float inv_r) { return (s - m) * inv_r; }

float inverse_r(int r) { return r == 1 ? 1.0f : r == 2 ? 0.5f : 1.0f / 3.0f; }

// Keeps z_i = centred(s_i) for usable keys with z_i > limit (compacted to the front of z).
// Decode rows have few candidates, so blocks of 16 are first tested with a vectorised block max
// and only blocks holding a candidate run the (scalar) compaction.
TESSERA_MULTIVERSION
size_t gather_candidates(const float* s, size_t n, const uint8_t* mask, float m, float inv_r, float limit, float* z) {
  constexpr size_t kBlock = 16;
  size_t k = 0, i = 0;
  const simd::v8f neg_inf = simd::splat8(-kInf);
  for (; i + kBlock <= n; i += kBlock) {
    simd::v8f lanes = neg_inf;
    for (size_t b = 0; b < kBlock; b += 8) {
      simd::v8f v = simd::load8(s + i + b);
      if (mask != nullptr) v = simd::mask8(mask + i + b) ? v : neg_inf;
      lanes = v > lanes ? v : lanes;  // NaN lanes lose (compare false)
    }
    float bm = simd::hmax8(lanes);
    if (!(centred(bm, m, inv_r) > limit)) continue;  // centred() is monotone: no candidate here
    for (size_t j = i; j < i + kBlock; ++j) {
      float zj = centred(s[j], m, inv_r);
      z[k] = zj;
      k += (zj > limit) & (mask == nullptr || mask[j] != 0);  // false for NaN
    }
  }
  for (; i < n; ++i) {
    float zi = centred(s[i], m, inv_r);
    z[k] = zi;
    k += (zi > limit) & (mask == nullptr || mask[i] != 0);
  }
  return k;
}

// p_i = [z_i - τ]_+^R. τ = tau_hi + tau_lo (float pair): y = (z - tau_hi) - tau_lo keeps a relative
// error of about 1 ulp in y even when y ≪ |τ|, which a single float τ would not (its rounding alone,
// ~3e-8·|τ|, would shift Σp by support·3e-8).
template <int R>
TESSERA_MULTIVERSION void power_output(const float* s, float* p, size_t n, const uint8_t* mask, float m, float inv_r,
                                       float tau_hi, float tau_lo) {
  for (size_t i = 0; i < n; ++i) {
    float y = (centred(s[i], m, inv_r) - tau_hi) - tau_lo;
    y = y > 0.0f ? y : 0.0f;  // NaN -> 0
    float v = R == 1 ? y : R == 2 ? y * y : y * y * y;
    p[i] = (mask == nullptr || mask[i] != 0) ? v : 0.0f;
  }
}

void write_output(int r, const float* s, float* p, size_t n, const uint8_t* mask, float m, float inv_r, double tau) {
  float hi = static_cast<float>(tau);
  float lo = static_cast<float>(tau - static_cast<double>(hi));
  if (r == 1) power_output<1>(s, p, n, mask, m, inv_r, hi, lo);
  else if (r == 2) power_output<2>(s, p, n, mask, m, inv_r, hi, lo);
  else power_output<3>(s, p, n, mask, m, inv_r, hi, lo);
}

// Newton quantities and closed-form moments of the entries above τ, compacting them in place.
struct PrunePass {
  ActiveMoments moments;
  double sum_y_r = 0.0, sum_y_r1 = 0.0;  // Σ y^r, Σ y^(r-1), y = z - τ > 0
  double min_z = 0.0;
};

template <int R>
PrunePass prune_above(float* z, size_t m, double tau) {
  PrunePass out;
  double s1 = 0, s2 = 0, s3 = 0, yr = 0, yr1 = 0, mn = 1.0;
  size_t k = 0;
  for (size_t i = 0; i < m; ++i) {
    double v = z[i];
    z[k] = z[i];
    if (v > tau) {
      ++k;
      double y = v - tau;
      s1 += v;
      s2 += v * v;
      if (R == 3) s3 += v * v * v;
      yr1 += R == 1 ? 1.0 : R == 2 ? y : y * y;
      yr += R == 1 ? y : R == 2 ? y * y : y * y * y;
      mn = v < mn ? v : mn;
    }
  }
  out.moments = {k, s1, s2, s3};
  out.sum_y_r = yr;
  out.sum_y_r1 = yr1;
  out.min_z = mn;
  return out;
}

// Iterates τ_{k+1} = τ_k + Newton step on g(τ) = ‖[z - τ]_+‖_r - 1 from τ_0 = -1 (g(-1) ≥ 0).
// g is convex (an r-norm of convex non-increasing coordinates) and decreasing, so Newton from the left
// never passes the root: every τ_k ≤ τ* and entries z ≤ τ_k can be dropped. (For r = 1 this is
// Michelot's algorithm.) Using the r-norm rather than Σ y^r makes the step exact for a single cluster
// and cuts the iterations from far below. After each pass the closed form τ_c on the remaining set S
// is tested: if τ_c ≥ τ_k and min S > τ_c, then f(τ_c) = Σ_S (z - τ_c)^r - 1 = 0 with nothing outside S
// above τ_c, i.e. τ_c is the exact threshold.
template <int R>
double threshold_exact_r(float* z, size_t m) {
  // Entries within kTieTol of τ contribute at most kTieTol^r: accept them in S (ties at τ).
  const double kTieTol = 1e-12;
  double tau = -1.0;
  for (int iter = 0; iter < 64 && m > 0; ++iter) {
    PrunePass pass = prune_above<R>(z, m, tau);
    m = pass.moments.count;
    double tc = closed_form_threshold(R, pass.moments);
    if (tc >= tau - kTieTol && pass.min_z > tc - kTieTol) return tc;
    double norm = R == 1 ? pass.sum_y_r : R == 2 ? std::sqrt(pass.sum_y_r) : std::cbrt(pass.sum_y_r);
    double norm_pow = R == 1 ? 1.0 : R == 2 ? norm : norm * norm;  // N^(r-1)
    double step = (norm - 1.0) * norm_pow / pass.sum_y_r1;
    if (!(step > 0.0)) break;  // rounding reached the root: let the sorted scan decide
    tau += step;
  }
  return entmax_threshold_sorted(R, z, m);
}

}  // namespace

double closed_form_threshold(int r, const ActiveMoments& m) {
  return r == 1 ? sparsemax_threshold(m) : r == 2 ? entmax15_threshold(m) : entmax43_threshold(m);
}

double entmax_threshold_exact(int r, float* z, size_t m) {
  if (r == 1) return threshold_exact_r<1>(z, m);
  if (r == 2) return threshold_exact_r<2>(z, m);
  return threshold_exact_r<3>(z, m);
}

double entmax_threshold_sorted(int r, float* z, size_t m) {
  std::sort(z, z + m, std::greater<float>());
  ActiveMoments acc;
  double best = static_cast<double>(z[0]) - 1.0;  // ρ = 1 always passes
  for (size_t rho = 1; rho <= m; ++rho) {
    double v = z[rho - 1];
    acc.count = rho;
    acc.s1 += v;
    acc.s2 += v * v;
    acc.s3 += v * v * v;
    double t = closed_form_threshold(r, acc);
    if (t < v) best = t;
  }
  return best;
}

void entmax_exact_row(int r, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  float m = usable_row_max(s, n, mask);
  if (m == -kInf) return fill_zero(p, n);
  if (m == kInf) return fill_uniform_on_value(s, p, n, mask, kInf);
  float inv_r = inverse_r(r);
  size_t k = gather_candidates(s, n, mask, m, inv_r, -1.0f, scratch);
  double tau = entmax_threshold_exact(r, scratch, k);
  write_output(r, s, p, n, mask, m, inv_r, tau);
}

void entmax_full_sort_row(int r, const float* s, float* p, size_t n, const uint8_t* mask, float* scratch) {
  float m = usable_row_max(s, n, mask);
  if (m == -kInf) return fill_zero(p, n);
  if (m == kInf) return fill_uniform_on_value(s, p, n, mask, kInf);
  float inv_r = inverse_r(r);
  size_t k = gather_candidates(s, n, mask, m, inv_r, -kInf, scratch);
  double tau = entmax_threshold_sorted(r, scratch, k);
  write_output(r, s, p, n, mask, m, inv_r, tau);
}

}  // namespace tessera::ops
