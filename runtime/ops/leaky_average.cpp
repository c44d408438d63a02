#include "ops/leaky_average.h"

#include <cmath>

namespace tessera::ops {

void leaky_average_step(double* state, const float* u, const float* decay, int64_t n_head, int64_t head_dim) {
  for (int64_t h = 0; h < n_head; ++h) {
    const double a = decay[h], b = 1.0 - a;
    for (int64_t i = h * head_dim; i < (h + 1) * head_dim; ++i) state[i] = a * state[i] + b * double(u[i]);
  }
}

void unit_keys(const double* state, float eps, float* k, int64_t n_head, int64_t head_dim) {
  for (int64_t h = 0; h < n_head; ++h) {
    const double* s = state + h * head_dim;
    double ss = 0;
    for (int64_t i = 0; i < head_dim; ++i) ss += s[i] * s[i];
    const double norm = std::sqrt(ss) + double(eps);
    const double inv = norm > 0 ? 1.0 / norm : 0.0;
    for (int64_t i = 0; i < head_dim; ++i) k[h * head_dim + i] = float(s[i] * inv);
  }
}

}  // namespace tessera::ops
