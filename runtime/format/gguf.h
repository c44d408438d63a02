// GGUF v3 (ggml-org/ggml docs/gguf.md): reader (memory-mapped, validated on open) and writer.
// Tessera's files: general.architecture = "memory-mosaics", alignment 256, see docs/format.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/file_io.h"
#include "core/tensor.h"
#include "tessera/status.h"

namespace tessera::gguf {

constexpr uint32_t kVersion = 3;
constexpr uint32_t kDefaultAlignment = 256;

// GGUF metadata value types (wire values).
enum class ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

// GGML tensor types Tessera reads/writes (wire values).
enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30
};

// Wire names ("u8", "string", "array", ...) and the GGML <-> Tessera type mappings.
const char* value_type_name(ValueType t);
const char* tensor_type_name(TensorType t);
std::optional<DType> dtype_of(TensorType t);
std::optional<TensorType> tensor_type_of(DType t);  // none for U8 (GGML has no U8 tensor type)

// Limits the reader enforces on hostile files (docs/format.md).
constexpr uint32_t kMaxDims = 4;
constexpr size_t kMaxTensorName = 64;    // bytes (the writer allows 63: GGML's name[64] is NUL-terminated)
constexpr size_t kMaxKeyLength = 65535;  // bytes
constexpr int kMaxArrayDepth = 2;        // an array may hold arrays, which may not hold arrays
// All arrays of a file together (a 256k-token vocabulary plus its merges fits many times over); bounds the
// memory a hostile file can make the reader allocate (each element is a Value of ~48 bytes).
constexpr uint64_t kMaxArrayElements = uint64_t(1) << 22;

struct Value;
using Array = std::vector<Value>;
struct Value {
  ValueType type = ValueType::kU32;
  ValueType array_type = ValueType::kU32;  // element type when type == kArray
  std::variant<uint64_t, int64_t, double, bool, std::string, Array> data;
};

// A parsed, validated GGUF file. Tensors view the mapped bytes (no copies).
class File {
 public:
  static Result<File> open(const std::string& path);
  // Parses bytes held by `owner` (kept alive by the returned tensors). `name` is used in messages.
  static Result<File> parse(std::span<const std::byte> bytes, std::shared_ptr<const void> owner,
                            const std::string& name);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  const std::string& name() const { return name_; }
  const std::map<std::string, Value>& metadata() const { return kv_; }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  // Offset of each tensor's data from the start of the data section (as stored in the file).
  const std::vector<uint64_t>& tensor_offsets() const { return offsets_; }
  uint64_t data_section_offset() const { return data_offset_; }

  bool has(const std::string& key) const { return kv_.count(key) != 0; }
  const Tensor* find_tensor(const std::string& name) const;
  // Tensor bytes a backend has copied into its own layout: their pages leave resident memory
  // (MappedFile::release_pages; files from open() only, a no-op for parse()d bytes).
  void release_pages(const void* p, size_t n) const {
    if (mapped_) mapped_->release_pages(p, n);
  }
  // Typed getters: an error names the file, the key, the expected and the found type.
  // Integer getters accept any integer type whose value fits.
  Result<int64_t> get_int(const std::string& key) const;
  Result<double> get_float(const std::string& key) const;  // F32/F64 (and integers)
  Result<bool> get_bool(const std::string& key) const;
  Result<std::string> get_string(const std::string& key) const;
  Result<std::vector<std::string>> get_string_array(const std::string& key) const;
  Result<std::vector<double>> get_float_array(const std::string& key) const;
  Result<std::vector<int64_t>> get_int_array(const std::string& key) const;

 private:
  std::string name_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::map<std::string, Value> kv_;
  std::vector<Tensor> tensors_;
  std::vector<uint64_t> offsets_;
  std::map<std::string, size_t> tensor_index_;  // name -> position in tensors_
  std::shared_ptr<const MappedFile> mapped_;    // set by open()
};

// Builds a GGUF file. Metadata keeps insertion order; tensors are written in insertion order,
// each aligned to `alignment`. Same inputs give byte-identical output.
class Writer {
 public:
  explicit Writer(uint32_t alignment = kDefaultAlignment);
  void set_string(const std::string& key, const std::string& v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_f64(const std::string& key, double v);
  void set_bool(const std::string& key, bool v);
  void set_string_array(const std::string& key, const std::vector<std::string>& v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);
  // Any value (every wire type, nested arrays); checked when written. Setting a key again replaces
  // its value in place (its position stays).
  void set(const std::string& key, Value v);
  // The tensor's dtype must be F32/F16/BF16/F64/I8/I16/I32/I64; ≤ 4 dims; name ≤ 63 bytes.
  // A 0-dim (scalar) tensor is written with the single dimension [1]. The bytes are referenced
  // (the tensor's owner keeps them alive) until the file is written.
  Status add_tensor(const Tensor& t);

  Result<std::vector<std::byte>> serialize() const;
  // Atomic: temp file + rename.
  Status write(const std::string& path) const;
  // The file's bytes in order, in pieces (a caller can count them for a progress display).
  Status write_to(const ByteSink& sink) const;

 private:
  uint32_t alignment_;
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace tessera::gguf
