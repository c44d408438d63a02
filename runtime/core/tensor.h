// A named, typed, shaped block of bytes on the host: what readers produce and writers consume.
// Shapes are row-major, outermost first (PyTorch order); GGUF's innermost-first order is
// handled inside the GGUF code only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace tessera {

struct Tensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  // The bytes; `owner` keeps them alive (a mapped file, or an owned vector).
  const std::byte* data = nullptr;
  size_t nbytes = 0;
  std::shared_ptr<const void> owner;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  template <class T>
  std::span<const T> as() const {
    return {reinterpret_cast<const T*>(data), nbytes / sizeof(T)};
  }
  // "[4, 8, 16]"
  std::string shape_string() const;
};

// A tensor that owns a fresh copy of `bytes`.
Tensor make_owned_tensor(std::string name, DType dtype, std::vector<int64_t> shape, std::vector<std::byte> bytes);
// A float32 tensor owning a copy of `values`.
Tensor make_f32_tensor(std::string name, std::vector<int64_t> shape, std::span<const float> values);

// Converts any floating/integer tensor to float32 values (F16/BF16/F64/I* widened or narrowed).
std::vector<float> tensor_to_f32(const Tensor& t);

}  // namespace tessera
