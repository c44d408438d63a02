// Per-channel int8 quantization (see quantize_tensor.h).
#include "quant/quantize_tensor.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/dtype.h"

namespace tessera::quant {

QuantizedRows quantize_rows(const double* w, int64_t rows, int64_t cols) {
  QuantizedRows out;
  out.q.resize(size_t(rows * cols));
  out.scale.resize(size_t(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double mx = 0;
    for (int64_t c = 0; c < cols; ++c) mx = std::max(mx, std::fabs(w[r * cols + c]));
    float s = mx > 0 ? float(mx / 127.0) : 1.0f;
    if (!(s > 0)) s = std::numeric_limits<float>::min();  // a subnormal row max
    out.scale[size_t(r)] = s;
    for (int64_t c = 0; c < cols; ++c) {
      const double q = std::nearbyint(w[r * cols + c] / double(s));
      out.q[size_t(r * cols + c)] = int8_t(std::clamp(q, -127.0, 127.0));
    }
  }
  return out;
}

static TensorReport finish(TensorReport t) {
  t.sqnr_db = t.noise > 0 ? 10.0 * std::log10(t.signal / t.noise) : std::numeric_limits<double>::infinity();
  return t;
}

TensorReport measure_int8(const std::string& name, const double* w, const QuantizedRows& q, int64_t rows, int64_t cols) {
  TensorReport t;
  t.name = name;
  t.numel = rows * cols;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const double x = w[r * cols + c], e = x - double(q.scale[size_t(r)]) * q.q[size_t(r * cols + c)];
      t.signal += x * x;
      t.noise += e * e;
      t.max_abs_error = std::max(t.max_abs_error, std::fabs(e));
    }
  return finish(t);
}

TensorReport measure_f16(const std::string& name, const double* w, const std::vector<uint16_t>& h) {
  TensorReport t;
  t.name = name;
  t.numel = int64_t(h.size());
  for (size_t i = 0; i < h.size(); ++i) {
    const double e = w[i] - double(half_to_float(h[i]));
    t.signal += w[i] * w[i];
    t.noise += e * e;
    t.max_abs_error = std::max(t.max_abs_error, std::fabs(e));
  }
  return finish(t);
}

}  // namespace tessera::quant
