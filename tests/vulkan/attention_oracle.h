// Float64 oracles of the attention transforms (independent of the shaders and of runtime/ops):
// softmax, entmax by >= 200 bisection halvings then the closed form on the found support,
// relumax, norm_relu, top-K. s are the scores (beta^2 · cos), p the probabilities.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "tessera/attention.h"

namespace tessera::vk::test {

inline std::vector<double> oracle_softmax(const std::vector<double>& s) {
  double m = *std::max_element(s.begin(), s.end()), z = 0;
  std::vector<double> p(s.size());
  for (size_t i = 0; i < s.size(); ++i) z += p[i] = std::exp(s[i] - m);
  for (double& x : p) x /= z;
  return p;
}

// tau of entmax on y = (alpha - 1)(s - max s), by >= 200 bisection halvings in [-1, -n^(1-alpha)].
inline double oracle_entmax_tau(const std::vector<double>& s, double alpha, std::vector<double>* y_out = nullptr) {
  const double am1 = alpha - 1, r = 1 / am1;
  const double m = *std::max_element(s.begin(), s.end()) * am1;
  std::vector<double> y(s.size());
  for (size_t i = 0; i < s.size(); ++i) y[i] = s[i] * am1 - m;
  auto mass = [&](double tau) {
    double f = 0;
    for (double v : y) f += v > tau ? std::pow(v - tau, r) : 0.0;
    return f;
  };
  double lo = -1, hi = -std::pow(double(s.size()), -am1);
  for (int it = 0; it < 200; ++it) {
    double mid = 0.5 * (lo + hi);
    (mass(mid) >= 1 ? lo : hi) = mid;
  }
  if (y_out) *y_out = y;
  return 0.5 * (lo + hi);
}

inline std::vector<double> oracle_entmax(const std::vector<double>& s, double alpha) {
  const double r = 1 / (alpha - 1);
  std::vector<double> y;
  const double tau = oracle_entmax_tau(s, alpha, &y);
  std::vector<double> p(s.size());
  double z = 0;
  for (size_t i = 0; i < s.size(); ++i) z += p[i] = y[i] > tau ? std::pow(y[i] - tau, r) : 0.0;
  for (double& x : p) x /= z;
  return p;
}

inline std::vector<double> oracle_relu(const std::vector<double>& s, double a, double b, bool relative, bool norm) {
  double m = *std::max_element(s.begin(), s.end()), z = 0;
  std::vector<double> p(s.size());
  for (size_t i = 0; i < s.size(); ++i) z += p[i] = std::max(a * (relative ? s[i] - m : s[i]) + b, 0.0);
  if (norm && z == 0) return std::vector<double>(s.size(), 1.0 / double(s.size()));
  for (double& x : p) x /= norm ? std::max(z, 1e-6) : z;
  return p;
}

inline std::vector<double> oracle_topk(const std::vector<double>& s, int k, bool softmax) {
  std::vector<size_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  size_t kk = std::min(size_t(k), s.size());
  std::vector<double> p(s.size(), 0.0);
  double z = 0;
  for (size_t i = 0; i < kk; ++i) z += p[idx[i]] = softmax ? std::exp(s[idx[i]] - s[idx[0]]) : 1.0;
  for (double& x : p) x /= z;
  return p;
}

}  // namespace tessera::vk::test
