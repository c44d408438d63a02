#include "core/tensor.h"

#include <cstring>

namespace tessera {

std::string Tensor::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Tensor make_owned_tensor(std::string name, DType dtype, std::vector<int64_t> shape, std::vector<std::byte> bytes) {
  auto holder = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  Tensor t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = holder->data();
  t.nbytes = holder->size();
  t.owner = holder;
  return t;
}

Tensor make_f32_tensor(std::string name, std::vector<int64_t> shape, std::span<const float> values) {
  std::vector<std::byte> bytes(values.size_bytes());
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), values.size_bytes());
  return make_owned_tensor(std::move(name), DType::kF32, std::move(shape), std::move(bytes));
}

template <class T>
static T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::vector<float> tensor_to_f32(const Tensor& t) {
  const size_t n = t.nbytes / dtype_size(t.dtype);
  std::vector<float> out(n);
  const std::byte* p = t.data;
  for (size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DType::kF32: out[i] = load<float>(p + 4 * i); break;
      case DType::kF16: out[i] = half_to_float(load<uint16_t>(p + 2 * i)); break;
      case DType::kBF16: out[i] = bf16_to_float(load<uint16_t>(p + 2 * i)); break;
      case DType::kF64: out[i] = float(load<double>(p + 8 * i)); break;
      case DType::kI8: out[i] = float(load<int8_t>(p + i)); break;
      case DType::kU8: out[i] = float(load<uint8_t>(p + i)); break;
      case DType::kI16: out[i] = float(load<int16_t>(p + 2 * i)); break;
      case DType::kI32: out[i] = float(load<int32_t>(p + 4 * i)); break;
      case DType::kI64: out[i] = float(load<int64_t>(p + 8 * i)); break;
    }
  }
  return out;
}

}  // namespace tessera
