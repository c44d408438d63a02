// GGUF type names, GGML <-> Tessera type mappings, and the typed metadata getters.
#include <limits>

#include "format/gguf.h"

namespace tessera::gguf {

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::kU8: return "u8";
    case ValueType::kI8: return "i8";
    case ValueType::kU16: return "u16";
    case ValueType::kI16: return "i16";
    case ValueType::kU32: return "u32";
    case ValueType::kI32: return "i32";
    case ValueType::kF32: return "f32";
    case ValueType::kBool: return "bool";
    case ValueType::kString: return "string";
    case ValueType::kArray: return "array";
    case ValueType::kU64: return "u64";
    case ValueType::kI64: return "i64";
    case ValueType::kF64: return "f64";
  }
  return "?";
}

const char* tensor_type_name(TensorType t) {
  switch (t) {
    case TensorType::kF32: return "F32";
    case TensorType::kF16: return "F16";
    case TensorType::kI8: return "I8";
    case TensorType::kI16: return "I16";
    case TensorType::kI32: return "I32";
    case TensorType::kI64: return "I64";
    case TensorType::kF64: return "F64";
    case TensorType::kBF16: return "BF16";
  }
  return "?";
}

std::optional<DType> dtype_of(TensorType t) {
  switch (t) {
    case TensorType::kF32: return DType::kF32;
    case TensorType::kF16: return DType::kF16;
    case TensorType::kI8: return DType::kI8;
    case TensorType::kI16: return DType::kI16;
    case TensorType::kI32: return DType::kI32;
    case TensorType::kI64: return DType::kI64;
    case TensorType::kF64: return DType::kF64;
    case TensorType::kBF16: return DType::kBF16;
  }
  return std::nullopt;
}

std::optional<TensorType> tensor_type_of(DType t) {
  switch (t) {
    case DType::kF32: return TensorType::kF32;
    case DType::kF16: return TensorType::kF16;
    case DType::kBF16: return TensorType::kBF16;
    case DType::kF64: return TensorType::kF64;
    case DType::kI8: return TensorType::kI8;
    case DType::kI16: return TensorType::kI16;
    case DType::kI32: return TensorType::kI32;
    case DType::kI64: return TensorType::kI64;
    case DType::kU8: return std::nullopt;
  }
  return std::nullopt;
}

namespace {

bool is_integer(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kU16:
    case ValueType::kI16:
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kU64:
    case ValueType::kI64: return true;
    default: return false;
  }
}

bool is_float(ValueType t) { return t == ValueType::kF32 || t == ValueType::kF64; }

std::string found_type(const Value& v) {
  if (v.type == ValueType::kArray) return std::string("array of ") + value_type_name(v.array_type);
  return value_type_name(v.type);
}

// An integer Value as int64; `ok` false when a u64 does not fit.
int64_t as_int(const Value& v, bool& ok) {
  ok = true;
  if (auto* u = std::get_if<uint64_t>(&v.data)) {
    if (*u > uint64_t(std::numeric_limits<int64_t>::max())) ok = false;
    return int64_t(*u);
  }
  return std::get<int64_t>(v.data);
}

double as_double(const Value& v) {
  if (auto* d = std::get_if<double>(&v.data)) return *d;
  if (auto* u = std::get_if<uint64_t>(&v.data)) return double(*u);
  return double(std::get<int64_t>(v.data));
}

}  // namespace

#define TESSERA_GGUF_LOOKUP(key, expected)                                                                            \
  auto it = kv_.find(key);                                                                                            \
  if (it == kv_.end()) return not_found(name_ + ": key '" + key + "': expected " + expected + ", found no such key"); \
  const Value& v = it->second;                                                                                        \
  auto wrong_type = [&]() {                                                                                           \
    return corrupt_file(name_ + ": key '" + key + "': expected " + expected + ", found " + found_type(v));            \
  }

Result<int64_t> File::get_int(const std::string& key) const {
  TESSERA_GGUF_LOOKUP(key, "an integer");
  if (!is_integer(v.type)) return wrong_type();
  bool ok;
  int64_t x = as_int(v, ok);
  if (!ok)
    return out_of_range(name_ + ": key '" + key + "': expected a value below 2^63, found " +
                        std::to_string(std::get<uint64_t>(v.data)));
  return x;
}

Result<double> File::get_float(const std::string& key) const {
  TESSERA_GGUF_LOOKUP(key, "a number");
  if (!is_float(v.type) && !is_integer(v.type)) return wrong_type();
  return as_double(v);
}

Result<bool> File::get_bool(const std::string& key) const {
  TESSERA_GGUF_LOOKUP(key, "a bool");
  if (v.type != ValueType::kBool) return wrong_type();
  return std::get<bool>(v.data);
}

Result<std::string> File::get_string(const std::string& key) const {
  TESSERA_GGUF_LOOKUP(key, "a string");
  if (v.type != ValueType::kString) return wrong_type();
  return std::get<std::string>(v.data);
}

Result<std::vector<std::string>> File::get_string_array(const std::string& key) const {
  TESSERA_GGUF_LOOKUP(key, "an array of strings");
  if (v.type != ValueType::kArray || v.array_type != ValueType::kString) return wrong_type();
  std::vector<std::string> out;
  for (const Value& e : std::get<Array>(v.data)) out.push_back(std::get<std::string>(e.data));
  return out;
}

Result<std::vector<double>> File::get_float_array(const std::string& key) const {
  TESSERA_GGUF_LOOKUP(key, "an array of numbers");
  if (v.type != ValueType::kArray || !(is_float(v.array_type) || is_integer(v.array_type))) return wrong_type();
  std::vector<double> out;
  for (const Value& e : std::get<Array>(v.data)) out.push_back(as_double(e));
  return out;
}

Result<std::vector<int64_t>> File::get_int_array(const std::string& key) const {
  TESSERA_GGUF_LOOKUP(key, "an array of integers");
  if (v.type != ValueType::kArray || !is_integer(v.array_type)) return wrong_type();
  std::vector<int64_t> out;
  for (const Value& e : std::get<Array>(v.data)) {
    bool ok;
    out.push_back(as_int(e, ok));
    if (!ok)
      return out_of_range(name_ + ": key '" + key + "': expected elements below 2^63, found " +
                          std::to_string(std::get<uint64_t>(e.data)));
  }
  return out;
}

#undef TESSERA_GGUF_LOOKUP

}  // namespace tessera::gguf
