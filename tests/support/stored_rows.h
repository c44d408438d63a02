// Canonical float values stored the way a backend reads them: F32, F16, or I8 with one F32 scale per row
// (max |v| / 127) as `tessera quantize` writes them; and the float64 values a device computes with.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace tessera::testing {

// `rows` rows of values[i·cols ..]; *scale gets the I8 per-row scales ("<name>.scale", the shape's leading
// dims), and stays empty otherwise.
inline Tensor stored_rows(const std::string& name, std::span<const float> v, std::vector<int64_t> shape, int64_t rows,
                          DType dt, Tensor* scale) {
  if (dt == DType::kF32) return make_f32_tensor(name, std::move(shape), v);
  if (dt == DType::kF16) {
    std::vector<std::byte> h(v.size() * 2);
    for (size_t i = 0; i < v.size(); ++i) {
      const uint16_t x = float_to_half(v[i]);
      std::memcpy(h.data() + 2 * i, &x, 2);
    }
    return make_owned_tensor(name, DType::kF16, std::move(shape), std::move(h));
  }
  const size_t cols = v.size() / size_t(rows);
  std::vector<std::byte> q(v.size());
  std::vector<float> sc(static_cast<size_t>(rows));
  for (size_t r = 0; r < sc.size(); ++r) {
    float mx = 1e-30f;
    for (size_t i = 0; i < cols; ++i) mx = std::max(mx, std::abs(v[r * cols + i]));
    sc[r] = mx / 127.0f;
    for (size_t i = 0; i < cols; ++i) q[r * cols + i] = std::byte(int8_t(std::lround(v[r * cols + i] / sc[r])));
  }
  std::vector<int64_t> scale_shape(shape.begin(), shape.end() - 1);  // one per row / per slot
  *scale = make_f32_tensor(name + ".scale", scale_shape, sc);
  return make_owned_tensor(name, DType::kI8, std::move(shape), std::move(q));
}

// The values of a stored_rows tensor as the device sees them (after F16 / I8 rounding), in float64.
inline std::vector<double> stored_values(const Tensor& t, const Tensor& scale) {
  if (t.dtype != DType::kI8) {
    const std::vector<float> f = tensor_to_f32(t);
    return {f.begin(), f.end()};
  }
  const auto q = t.as<int8_t>();
  const auto sc = scale.as<float>();
  const size_t cols = q.size() / sc.size();
  std::vector<double> out(q.size());
  for (size_t i = 0; i < q.size(); ++i) out[i] = double(q[i]) * sc[i / cols];
  return out;
}

}  // namespace tessera::testing
