#pragma once

#include <cstdint>

namespace tessera::ops {

// One step of the per-head leaky average (current token included):
//   s[c] = a_h·s[c] + (1 - a_h)·u[c], for c in head h's slice of d channels.
// The state is double: it is an infinite-horizon sum, and the unit key derived from it feeds
// scores scaled by β² up to e¹⁰.
void leaky_average_step(double* state, const float* u, const float* decay, int64_t n_head, int64_t head_dim);

// k[c] = s[c] / (‖s_h‖ + eps) per head, rounded once to float. A zero state gives a zero key.
void unit_keys(const double* state, float eps, float* k, int64_t n_head, int64_t head_dim);

}  // namespace tessera::ops
