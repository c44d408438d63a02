// Model tensors on the device: matrices (split by rows when one would exceed the largest bindable
// range), LayerNorm parameters, per-head vectors.
#pragma once

#include <string>
#include <vector>

#include "model/model_weights.h"
#include "tessera/status.h"
#include "vulkan/context.h"

namespace tessera::vk {

// Shader weight type codes (shaders/weights.glsl).
enum class WeightType : uint32_t { kF32 = 0, kF16 = 1, kI8 = 2 };

struct GpuMatrix {
  struct Part {
    BufferSlice weight, scale, bias;  // scale/bias: the context's dummy when absent
    int64_t row0 = 0, rows = 0;
  };
  std::vector<Part> parts;
  WeightType wtype = WeightType::kF32;
  int64_t rows = 0, cols = 0;
  bool has_bias = false;
};

struct GpuNorm {
  BufferSlice weight, bias;
  uint32_t flags = 0;  // 1 weight present, 2 bias present
};

// Validates dtype/shape (cols % 4 == 0 for the vectorised loads) and uploads.
Result<GpuMatrix> upload_matrix(Context& context, const Matrix& m, const std::string& what);
Result<GpuNorm> upload_norm(Context& context, const Norm& n, int64_t channels, const std::string& what);
// [a; b] stacked by rows on the host (one projection dispatch instead of two): same type kept when
// both share it, else both widened to F32; a missing bias becomes zeros when the other has one.
Result<Matrix> concat_rows(const Matrix& a, const Matrix& b, const std::string& what);
// Any float tensor as F32 on the device (F16/BF16 widened; I8 with `scale` per group of
// `group` elements dequantised).
Result<BufferSlice> upload_as_f32(Context& context, const Tensor& t, const Tensor* scale, int64_t group,
                                  const std::string& what);

}  // namespace tessera::vk
