#include "vulkan/gpu_tensors.h"

#include <algorithm>
#include <cstring>

namespace tessera::vk {

Result<BufferSlice> upload_as_f32(Context& context, const Tensor& t, const Tensor* scale, int64_t group,
                                  const std::string& what) {
  std::vector<float> v = tensor_to_f32(t);
  if ((t.dtype == DType::kI8 || t.dtype == DType::kI16) && scale && scale->nbytes) {
    std::vector<float> s = tensor_to_f32(*scale);
    if (group <= 0 || int64_t(s.size()) * group != int64_t(v.size()))
      return invalid_argument(what + ": scale count " + std::to_string(s.size()) + " does not match " +
                              std::to_string(v.size()) + " elements");
    for (size_t i = 0; i < v.size(); ++i) v[i] *= s[i / size_t(group)];
  }
  return context.upload_floats(v, what);
}

Result<Matrix> concat_rows(const Matrix& a, const Matrix& b, const std::string& what) {
  if (a.cols != b.cols) return invalid_argument(what + ": matrices to stack differ in width");
  Matrix m;
  m.rows = a.rows + b.rows;
  m.cols = a.cols;
  auto floats = [](const Tensor& t, int64_t n, float fill) {
    return t.nbytes ? tensor_to_f32(t) : std::vector<float>(size_t(n), fill);
  };
  const bool same = a.weight.dtype == b.weight.dtype &&
                    (a.weight.dtype == DType::kF32 || a.weight.dtype == DType::kF16 || a.weight.dtype == DType::kI8);
  if (same) {
    std::vector<std::byte> bytes(a.weight.nbytes + b.weight.nbytes);
    std::memcpy(bytes.data(), a.weight.data, a.weight.nbytes);
    std::memcpy(bytes.data() + a.weight.nbytes, b.weight.data, b.weight.nbytes);
    m.weight = make_owned_tensor(what, a.weight.dtype, {m.rows, m.cols}, std::move(bytes));
    if (a.weight.dtype == DType::kI8) {
      std::vector<float> sc = floats(a.scale, a.rows, 1.0f), sb = floats(b.scale, b.rows, 1.0f);
      sc.insert(sc.end(), sb.begin(), sb.end());
      m.scale = make_f32_tensor(what + ".scale", {m.rows}, sc);
    }
  } else {
    auto widen = [&](const Matrix& x) {
      std::vector<float> v = tensor_to_f32(x.weight);
      if (x.weight.dtype == DType::kI8 && x.scale.nbytes) {
        std::vector<float> sc = tensor_to_f32(x.scale);
        for (size_t i = 0; i < v.size(); ++i) v[i] *= sc[i / size_t(x.cols)];
      }
      return v;
    };
    std::vector<float> v = widen(a), vb = widen(b);
    v.insert(v.end(), vb.begin(), vb.end());
    m.weight = make_f32_tensor(what, {m.rows, m.cols}, v);
  }
  if (a.bias.nbytes || b.bias.nbytes) {
    std::vector<float> bias = floats(a.bias, a.rows, 0.0f), bb = floats(b.bias, b.rows, 0.0f);
    bias.insert(bias.end(), bb.begin(), bb.end());
    m.bias = make_f32_tensor(what + ".bias", {m.rows}, bias);
  }
  return m;
}

Result<GpuMatrix> upload_matrix(Context& context, const Matrix& m, const std::string& what) {
  GpuMatrix g;
  g.rows = m.rows;
  g.cols = m.cols;
  if (m.cols % 4 != 0)
    return unsupported(what + ": the Vulkan backend needs the input width to be a multiple of 4, found " +
                       std::to_string(m.cols));
  std::vector<std::byte> converted;
  const std::byte* data = m.weight.data;
  size_t elem = dtype_size(m.weight.dtype);
  switch (m.weight.dtype) {
    case DType::kF32: g.wtype = WeightType::kF32; break;
    case DType::kF16: g.wtype = WeightType::kF16; break;
    case DType::kI8: g.wtype = WeightType::kI8; break;
    default: {  // BF16/F64 (and I16 of a mixed-precision int8 file, times its row scale): F32 once at load
      std::vector<float> f = tensor_to_f32(m.weight);
      if (m.weight.dtype == DType::kI16 && m.scale.nbytes) {
        const std::vector<float> s = tensor_to_f32(m.scale);
        if (int64_t(s.size()) != m.rows) return invalid_argument(what + ": I16 weight needs one scale per row");
        for (size_t i = 0; i < f.size(); ++i) f[i] *= s[i / size_t(m.cols)];
      }
      converted.resize(f.size() * 4);
      std::memcpy(converted.data(), f.data(), converted.size());
      data = converted.data();
      elem = 4;
      g.wtype = WeightType::kF32;
    }
  }
  if (m.weight.numel() != m.rows * m.cols)
    return invalid_argument(what + ": weight has " + std::to_string(m.weight.numel()) + " elements, expected " +
                            std::to_string(m.rows * m.cols));
  std::vector<float> scale, bias;
  if (g.wtype == WeightType::kI8) {
    scale = tensor_to_f32(m.scale);
    if (int64_t(scale.size()) != m.rows) return invalid_argument(what + ": I8 weight needs one scale per row");
  }
  if (m.bias.nbytes) {
    bias = tensor_to_f32(m.bias);
    if (int64_t(bias.size()) != m.rows) return invalid_argument(what + ": bias length != rows");
    g.has_bias = true;
  }
  const size_t row_bytes = size_t(m.cols) * elem;
  const int64_t rows_per_part = std::max<int64_t>(1, int64_t(context.weights().max_slice() / row_bytes));
  for (int64_t r0 = 0; r0 < m.rows; r0 += rows_per_part) {
    GpuMatrix::Part p;
    p.row0 = r0;
    p.rows = std::min(rows_per_part, m.rows - r0);
    std::string part_name = what + " rows " + std::to_string(r0) + "+" + std::to_string(p.rows);
    TESSERA_ASSIGN_OR_RETURN(p.weight,
                             context.upload({data + size_t(r0) * row_bytes, size_t(p.rows) * row_bytes}, part_name));
    p.scale = p.bias = context.dummy();
    if (!scale.empty()) {
      TESSERA_ASSIGN_OR_RETURN(p.scale,
                               context.upload_floats({scale.data() + r0, size_t(p.rows)}, part_name + " scale"));
    }
    if (!bias.empty()) {
      TESSERA_ASSIGN_OR_RETURN(p.bias, context.upload_floats({bias.data() + r0, size_t(p.rows)}, part_name + " bias"));
    }
    g.parts.push_back(p);
  }
  return g;
}

Result<GpuNorm> upload_norm(Context& context, const Norm& n, int64_t channels, const std::string& what) {
  GpuNorm g;
  g.weight = g.bias = context.dummy();
  if (n.weight.nbytes) {
    if (n.weight.numel() != channels) return invalid_argument(what + ": weight length != channels");
    TESSERA_ASSIGN_OR_RETURN(g.weight, upload_as_f32(context, n.weight, nullptr, 0, what + " weight"));
    g.flags |= 1;
  }
  if (n.bias.nbytes) {
    if (n.bias.numel() != channels) return invalid_argument(what + ": bias length != channels");
    TESSERA_ASSIGN_OR_RETURN(g.bias, upload_as_f32(context, n.bias, nullptr, 0, what + " bias"));
    g.flags |= 2;
  }
  return g;
}

}  // namespace tessera::vk
