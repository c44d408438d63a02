// Element types Tessera stores in files and tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tessera {

enum class DType : uint8_t { kF32, kF16, kBF16, kF64, kI8, kI16, kI32, kI64, kU8 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kBF16: return 2;
    case DType::kF64: return 8;
    case DType::kI8: return 1;
    case DType::kI16: return 2;
    case DType::kI32: return 4;
    case DType::kI64: return 8;
    case DType::kU8: return 1;
  }
  return 0;
}

// "F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64", "U8" (safetensors spelling).
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);

// IEEE half <-> float, exact round-to-nearest-even; no hardware dependence.
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bf16_to_float(uint16_t b);

}  // namespace tessera
