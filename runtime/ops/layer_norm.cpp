#include "ops/layer_norm.h"

#include <cmath>

namespace tessera::ops {

void layer_norm_f32(const float* x, const float* weight, const float* bias, float eps, float* y, int64_t n) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= double(n);
  double var = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double c = x[i] - mean;
    var += c * c;
  }
  var /= double(n);  // biased, as torch.nn.functional.layer_norm
  const double inv = 1.0 / std::sqrt(var + double(eps));
  for (int64_t i = 0; i < n; ++i) {
    double v = (x[i] - mean) * inv;
    if (weight) v *= weight[i];
    if (bias) v += bias[i];
    y[i] = float(v);
  }
}

}  // namespace tessera::ops
