// GGUF v3 writer: header, metadata in insertion order, tensor infos, then each tensor's data at the next
// multiple of the alignment (zero padding, the file also ends on a multiple). Nothing depends on time,
// addresses or hash order, so the same inputs give the same bytes.
#include <bit>
#include <cstring>
#include <set>

#include "format/gguf.h"

namespace tessera::gguf {

static_assert(std::endian::native == std::endian::little,
              "GGUF is little-endian; so is every target Tessera builds for");

namespace {

class Buffer {
 public:
  template <class T>
  void put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    bytes.insert(bytes.end(), p, p + s.size());
  }
  std::vector<std::byte> bytes;
};

Status bad_value(const std::string& key, const std::string& what) {
  return invalid_argument("GGUF writer: key '" + key + "': " + what);
}

template <class Want>
const Want* held(const Value& v) {
  return std::get_if<Want>(&v.data);
}

// Integers must fit the declared wire type; the variant alternative must match it.
Status encode_value(Buffer& out, const Value& v, const std::string& key, int depth) {
  auto need_u = [&](uint64_t max) -> Result<uint64_t> {
    const uint64_t* u = held<uint64_t>(v);
    if (!u) return bad_value(key, std::string("a ") + value_type_name(v.type) + " value must hold an unsigned integer");
    if (*u > max) return bad_value(key, std::to_string(*u) + " does not fit " + value_type_name(v.type));
    return *u;
  };
  auto need_i = [&](int64_t lo, int64_t hi) -> Result<int64_t> {
    const int64_t* i = held<int64_t>(v);
    if (!i) return bad_value(key, std::string("a ") + value_type_name(v.type) + " value must hold a signed integer");
    if (*i < lo || *i > hi) return bad_value(key, std::to_string(*i) + " does not fit " + value_type_name(v.type));
    return *i;
  };
  switch (v.type) {
    case ValueType::kU8: {
      TESSERA_ASSIGN_OR_RETURN(auto x, need_u(UINT8_MAX));
      out.put(uint8_t(x));
      break;
    }
    case ValueType::kU16: {
      TESSERA_ASSIGN_OR_RETURN(auto x, need_u(UINT16_MAX));
      out.put(uint16_t(x));
      break;
    }
    case ValueType::kU32: {
      TESSERA_ASSIGN_OR_RETURN(auto x, need_u(UINT32_MAX));
      out.put(uint32_t(x));
      break;
    }
    case ValueType::kU64: {
      TESSERA_ASSIGN_OR_RETURN(auto x, need_u(UINT64_MAX));
      out.put(uint64_t(x));
      break;
    }
    case ValueType::kI8: {
      TESSERA_ASSIGN_OR_RETURN(auto x, need_i(INT8_MIN, INT8_MAX));
      out.put(int8_t(x));
      break;
    }
    case ValueType::kI16: {
      TESSERA_ASSIGN_OR_RETURN(auto x, need_i(INT16_MIN, INT16_MAX));
      out.put(int16_t(x));
      break;
    }
    case ValueType::kI32: {
      TESSERA_ASSIGN_OR_RETURN(auto x, need_i(INT32_MIN, INT32_MAX));
      out.put(int32_t(x));
      break;
    }
    case ValueType::kI64: {
      TESSERA_ASSIGN_OR_RETURN(auto x, need_i(INT64_MIN, INT64_MAX));
      out.put(int64_t(x));
      break;
    }
    case ValueType::kF32:
    case ValueType::kF64: {
      const double* d = held<double>(v);
      if (!d) return bad_value(key, std::string("a ") + value_type_name(v.type) + " value must hold a double");
      if (v.type == ValueType::kF32) out.put(float(*d));
      else out.put(*d);
      break;
    }
    case ValueType::kBool: {
      const bool* b = held<bool>(v);
      if (!b) return bad_value(key, "a bool value must hold a bool");
      out.put(uint8_t(*b ? 1 : 0));
      break;
    }
    case ValueType::kString: {
      const std::string* s = held<std::string>(v);
      if (!s) return bad_value(key, "a string value must hold a string");
      out.put_string(*s);
      break;
    }
    case ValueType::kArray: {
      const Array* a = held<Array>(v);
      if (!a) return bad_value(key, "an array value must hold an Array");
      if (depth >= kMaxArrayDepth)
        return bad_value(key, "arrays nest at most " + std::to_string(kMaxArrayDepth) + " deep");
      if (uint32_t(v.array_type) > uint32_t(ValueType::kF64)) return bad_value(key, "unknown element type");
      out.put(uint32_t(v.array_type));
      out.put<uint64_t>(a->size());
      for (const Value& e : *a) {
        if (e.type != v.array_type)
          return bad_value(key, std::string("array of ") + value_type_name(v.array_type) + " holds a " +
                                    value_type_name(e.type));
        TESSERA_RETURN_IF_ERROR(encode_value(out, e, key, depth + 1));
      }
      break;
    }
    default: return bad_value(key, "unknown value type " + std::to_string(uint32_t(v.type)));
  }
  return Status();
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

Value scalar(ValueType t, std::variant<uint64_t, int64_t, double, bool, std::string, Array> d) {
  Value v;
  v.type = t;
  v.data = std::move(d);
  return v;
}

template <class T, class Wire>
Value array_of(ValueType elem, const std::vector<T>& xs) {
  Value v;
  v.type = ValueType::kArray;
  v.array_type = elem;
  Array a;
  a.reserve(xs.size());
  for (const T& x : xs) a.push_back(scalar(elem, Wire(x)));
  v.data = std::move(a);
  return v;
}

}  // namespace

Writer::Writer(uint32_t alignment) : alignment_(alignment) {}

void Writer::set(const std::string& key, Value v) {
  for (auto& [k, old] : kv_) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  kv_.emplace_back(key, std::move(v));
}

void Writer::set_string(const std::string& key, const std::string& v) { set(key, scalar(ValueType::kString, v)); }
void Writer::set_u32(const std::string& key, uint32_t v) { set(key, scalar(ValueType::kU32, uint64_t(v))); }
void Writer::set_i32(const std::string& key, int32_t v) { set(key, scalar(ValueType::kI32, int64_t(v))); }
void Writer::set_u64(const std::string& key, uint64_t v) { set(key, scalar(ValueType::kU64, v)); }
void Writer::set_f32(const std::string& key, float v) { set(key, scalar(ValueType::kF32, double(v))); }
void Writer::set_f64(const std::string& key, double v) { set(key, scalar(ValueType::kF64, v)); }
void Writer::set_bool(const std::string& key, bool v) { set(key, scalar(ValueType::kBool, v)); }
void Writer::set_string_array(const std::string& key, const std::vector<std::string>& v) {
  set(key, array_of<std::string, std::string>(ValueType::kString, v));
}
void Writer::set_f32_array(const std::string& key, const std::vector<float>& v) {
  set(key, array_of<float, double>(ValueType::kF32, v));
}
void Writer::set_i32_array(const std::string& key, const std::vector<int32_t>& v) {
  set(key, array_of<int32_t, int64_t>(ValueType::kI32, v));
}

Status Writer::add_tensor(const Tensor& t) {
  const std::string field = "GGUF writer: tensor '" + t.name + "'";
  if (t.name.empty()) return invalid_argument("GGUF writer: a tensor has an empty name");
  if (t.name.size() > kMaxTensorName - 1)
    return invalid_argument(field + " name: expected at most " + std::to_string(kMaxTensorName - 1) + " bytes, found " +
                            std::to_string(t.name.size()));
  for (const Tensor& other : tensors_)
    if (other.name == t.name) return invalid_argument(field + ": expected each tensor name once, found a duplicate");
  if (!tensor_type_of(t.dtype))
    return unsupported(field + " dtype: expected F32/F16/BF16/F64/I8/I16/I32/I64, found " +
                       std::string(dtype_name(t.dtype)) + " (GGML has no such tensor type)");
  if (t.shape.size() > kMaxDims)
    return invalid_argument(field + " shape: expected at most " + std::to_string(kMaxDims) + " dimensions, found " +
                            t.shape_string());
  uint64_t n = dtype_size(t.dtype);
  for (int64_t d : t.shape) {
    if (d < 0) return invalid_argument(field + " shape: expected non-negative dimensions, found " + t.shape_string());
    if (__builtin_mul_overflow(n, uint64_t(d), &n))
      return invalid_argument(field + " shape: expected a byte size that fits in 64 bits, found " + t.shape_string());
  }
  if (n != t.nbytes)
    return invalid_argument(field + " bytes: expected " + std::to_string(n) + " (shape " + t.shape_string() + " × " +
                            std::to_string(dtype_size(t.dtype)) + "), found " + std::to_string(t.nbytes));
  if (n > 0 && t.data == nullptr) return invalid_argument(field + ": has no data");
  tensors_.push_back(t);
  return Status();
}

Status Writer::write_to(const ByteSink& sink) const {
  if (alignment_ < 8 || (alignment_ & (alignment_ - 1)) != 0)
    return invalid_argument("GGUF writer: alignment: expected a power of two >= 8, found " +
                            std::to_string(alignment_));
  bool has_alignment_key = false;
  for (const auto& [key, v] : kv_) {
    if (key.empty() || key.size() > kMaxKeyLength)
      return invalid_argument("GGUF writer: key '" + key + "': expected 1.." + std::to_string(kMaxKeyLength) +
                              " bytes, found " + std::to_string(key.size()));
    if (key == "general.alignment") {
      const uint64_t* a = held<uint64_t>(v);
      if (v.type != ValueType::kU32 || !a || *a != alignment_)
        return invalid_argument("GGUF writer: key 'general.alignment': expected u32 " + std::to_string(alignment_) +
                                " (the writer's alignment)");
      has_alignment_key = true;
    }
  }

  Buffer head;
  head.bytes.insert(head.bytes.end(), {std::byte('G'), std::byte('G'), std::byte('U'), std::byte('F')});
  head.put<uint32_t>(kVersion);
  head.put<uint64_t>(tensors_.size());
  head.put<uint64_t>(kv_.size() + (has_alignment_key ? 0 : 1));
  auto put_kv = [&](const std::string& key, const Value& v) -> Status {
    head.put_string(key);
    head.put<uint32_t>(uint32_t(v.type));
    return encode_value(head, v, key, 0);
  };
  for (const auto& [key, v] : kv_) TESSERA_RETURN_IF_ERROR(put_kv(key, v));
  if (!has_alignment_key)
    TESSERA_RETURN_IF_ERROR(put_kv("general.alignment", scalar(ValueType::kU32, uint64_t(alignment_))));

  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    head.put_string(t.name);
    if (t.shape.empty()) {  // a scalar: GGML tensors have at least one dimension
      head.put<uint32_t>(1);
      head.put<uint64_t>(1);
    } else {
      head.put<uint32_t>(uint32_t(t.shape.size()));
      for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) head.put<uint64_t>(uint64_t(*d));  // innermost first
    }
    head.put<uint32_t>(uint32_t(*tensor_type_of(t.dtype)));
    head.put<uint64_t>(offset);
    offset = align_up(offset + t.nbytes, alignment_);
  }
  head.bytes.resize(size_t(align_up(head.bytes.size(), alignment_)), std::byte{0});
  TESSERA_RETURN_IF_ERROR(sink(head.bytes));

  const std::vector<std::byte> zeros(alignment_, std::byte{0});
  for (const Tensor& t : tensors_) {
    if (t.nbytes > 0) TESSERA_RETURN_IF_ERROR(sink({t.data, t.nbytes}));
    const size_t pad = size_t(align_up(t.nbytes, alignment_) - t.nbytes);
    if (pad > 0) TESSERA_RETURN_IF_ERROR(sink({zeros.data(), pad}));
  }
  return Status();
}

Result<std::vector<std::byte>> Writer::serialize() const {
  std::vector<std::byte> out;
  TESSERA_RETURN_IF_ERROR(write_to([&](std::span<const std::byte> b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status();
  }));
  return out;
}

Status Writer::write(const std::string& path) const {
  Status st = write_file_atomically(path, [&](const ByteSink& sink) { return write_to(sink); });
  // I/O errors already name the path; invalid keys/values/tensors do not know it yet.
  if (!st.ok() && st.code() != StatusCode::kIoError) return st.with_context(path);
  return st;
}

}  // namespace tessera::gguf
