// Per-channel int8 quantization (see quantize_tensor.h).
#include "quant/quantize_tensor.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/dtype.h"

namespace tessera::quant {

namespace {

template <class S>
float row_scale(const S* row, int64_t cols, double qmax) {
  double mx = 0;
  for (int64_t c = 0; c < cols; ++c) mx = std::max(mx, std::fabs(double(row[c])));
  float s = mx > 0 ? float(mx / qmax) : 1.0f;
  if (!(s > 0)) s = std::numeric_limits<float>::min();  // a subnormal row max
  return s;
}

// Row scale max|w_r| / qmax as a float32 (what the file stores) and q = round(w / scale), clamped.
template <class Q, class S>
void quantize_grid(const S* w, int64_t rows, int64_t cols, double qmax, std::vector<Q>& q, std::vector<float>& scale) {
  q.resize(size_t(rows * cols));
  scale.resize(size_t(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float s = row_scale(w + r * cols, cols, qmax);
    scale[size_t(r)] = s;
    for (int64_t c = 0; c < cols; ++c) {
      q[size_t(r * cols + c)] = Q(round_clamped(double(w[r * cols + c]) / double(s), qmax));
    }
  }
}

template <class Rows, class S>
TensorReport measure_rows(const std::string& name, const S* w, const Rows& q, int64_t rows, int64_t cols);

}  // namespace

QuantizedRows quantize_rows(const double* w, int64_t rows, int64_t cols) {
  QuantizedRows out;
  quantize_grid(w, rows, cols, 127.0, out.q, out.scale);
  return out;
}

QuantizedRows16 quantize_rows16(const double* w, int64_t rows, int64_t cols) {
  QuantizedRows16 out;
  quantize_grid(w, rows, cols, double(kInt16WeightMax), out.q, out.scale);
  return out;
}

QuantizedRows quantize_rows(const float* w, int64_t rows, int64_t cols) {
  QuantizedRows out;
  quantize_grid(w, rows, cols, 127.0, out.q, out.scale);
  return out;
}

QuantizedRows16 quantize_rows16(const float* w, int64_t rows, int64_t cols) {
  QuantizedRows16 out;
  quantize_grid(w, rows, cols, double(kInt16WeightMax), out.q, out.scale);
  return out;
}

void fake_quantize_rows(double* w, int64_t rows, int64_t cols, int bits) {
  if (bits == 16) {
    const QuantizedRows16 q = quantize_rows16(w, rows, cols);
    for (int64_t i = 0; i < rows * cols; ++i) w[i] = double(q.scale[size_t(i / cols)]) * q.q[size_t(i)];
  } else {
    const QuantizedRows q = quantize_rows(w, rows, cols);
    for (int64_t i = 0; i < rows * cols; ++i) w[i] = double(q.scale[size_t(i / cols)]) * q.q[size_t(i)];
  }
}

namespace {
template <class S>
void fake_quantize_to_f32(const S* w, int64_t rows, int64_t cols, int bits, float* out) {
  const double qmax = bits == 16 ? double(kInt16WeightMax) : 127.0;
  for (int64_t r = 0; r < rows; ++r) {
    const double s = row_scale(w + r * cols, cols, qmax);
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = float(s * round_clamped(double(w[r * cols + c]) / s, qmax));
  }
}
}  // namespace

void fake_quantize_rows_f32(const double* w, int64_t rows, int64_t cols, int bits, float* out) {
  fake_quantize_to_f32(w, rows, cols, bits, out);
}

void fake_quantize_rows_f32(const float* w, int64_t rows, int64_t cols, int bits, float* out) {
  fake_quantize_to_f32(w, rows, cols, bits, out);
}

static TensorReport finish(TensorReport t) {
  t.sqnr_db = t.noise > 0 ? 10.0 * std::log10(t.signal / t.noise) : std::numeric_limits<double>::infinity();
  return t;
}

namespace {
template <class Rows, class S>
TensorReport measure_rows(const std::string& name, const S* w, const Rows& q, int64_t rows, int64_t cols) {
  TensorReport t;
  t.name = name;
  t.numel = rows * cols;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const double x = double(w[r * cols + c]), e = x - double(q.scale[size_t(r)]) * q.q[size_t(r * cols + c)];
      t.signal += x * x;
      t.noise += e * e;
      t.max_abs_error = std::max(t.max_abs_error, std::fabs(e));
    }
  return finish(t);
}
}  // namespace

TensorReport measure_int8(const std::string& name, const double* w, const QuantizedRows& q, int64_t rows,
                          int64_t cols) {
  return measure_rows(name, w, q, rows, cols);
}

TensorReport measure_int8(const std::string& name, const float* w, const QuantizedRows& q, int64_t rows, int64_t cols) {
  return measure_rows(name, w, q, rows, cols);
}

TensorReport measure_int16(const std::string& name, const float* w, const QuantizedRows16& q, int64_t rows,
                           int64_t cols) {
  return measure_rows(name, w, q, rows, cols);
}

TensorReport measure_f16(const std::string& name, const float* w, const std::vector<uint16_t>& h) {
  TensorReport t;
  t.name = name;
  t.numel = int64_t(h.size());
  for (size_t i = 0; i < h.size(); ++i) {
    const double x = double(w[i]), e = x - double(half_to_float(h[i]));
    t.signal += x * x;
    t.noise += e * e;
    t.max_abs_error = std::max(t.max_abs_error, std::fabs(e));
  }
  return finish(t);
}

}  // namespace tessera::quant
