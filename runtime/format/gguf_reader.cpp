// GGUF v3 reader: every count, length, type, offset and size is checked against the file before it is
// used, so a truncated or hostile file gives a Status naming the field, never a crash or a huge allocation.
#include <algorithm>
#include <cstring>
#include <limits>

#include "core/printable.h"
#include "format/gguf.h"

namespace tessera::gguf {

namespace {

// Keys and tensor names come from the file: escaped before they reach a message.
std::string quoted(const std::string& s) { return "'" + printable_prefix(s, 256) + "'"; }

// A bounds-checked little-endian reader over the file's bytes.
class Cursor {
 public:
  Cursor(std::span<const std::byte> bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  Status error(StatusCode code, const std::string& field, const std::string& expected, const std::string& found) const {
    return Status(code, file_ + ": " + field + ": expected " + expected + ", found " + found);
  }
  Status corrupt(const std::string& field, const std::string& expected, const std::string& found) const {
    return error(StatusCode::kCorruptFile, field, expected, found);
  }

  Status need(size_t n, const std::string& field) const {
    if (remaining() >= n) return Status();
    return corrupt(field, std::to_string(n) + " bytes at offset " + std::to_string(pos_),
                   "only " + std::to_string(remaining()) + " (the file is truncated)");
  }

  template <class T>
  Result<T> read(const std::string& field) {
    TESSERA_RETURN_IF_ERROR(need(sizeof(T), field));
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));  // little-endian host: see gguf_writer.cpp
    pos_ += sizeof(T);
    return v;
  }

  // Unchecked reads: the caller has checked remaining().
  template <class T>
  T peek() const {
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    return v;
  }
  template <class T>
  T take() {
    T v = peek<T>();
    pos_ += sizeof(T);
    return v;
  }
  std::string take_string(size_t len) {
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return s;
  }

  Result<std::string> string(const std::string& field, uint64_t max_len) {
    TESSERA_ASSIGN_OR_RETURN(uint64_t len, read<uint64_t>(field + " length"));
    if (len > max_len)
      return corrupt(field + " length", "at most " + std::to_string(max_len) + " bytes", std::to_string(len));
    if (len > remaining())
      return corrupt(field + " length", "at most the " + std::to_string(remaining()) + " bytes left in the file",
                     std::to_string(len));
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), size_t(len));
    pos_ += size_t(len);
    return s;
  }

 private:
  std::span<const std::byte> bytes_;
  const std::string& file_;
  size_t pos_ = 0;
};

// The fewest bytes one value of type `t` occupies: bounds array lengths before anything is allocated.
uint64_t min_value_size(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kBool: return 1;
    case ValueType::kU16:
    case ValueType::kI16: return 2;
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kF32: return 4;
    case ValueType::kU64:
    case ValueType::kI64:
    case ValueType::kF64:
    case ValueType::kString: return 8;
    case ValueType::kArray: return 12;
  }
  return 1;
}

class MetadataParser {
 public:
  explicit MetadataParser(Cursor& c) : c_(c) {}

  Result<ValueType> value_type(const std::string& field) {
    TESSERA_ASSIGN_OR_RETURN(uint32_t t, c_.read<uint32_t>(field));
    if (t > uint32_t(ValueType::kF64)) return c_.corrupt(field, "a GGUF value type 0..12", std::to_string(t));
    return ValueType(t);
  }

  // A value's field name ("key 'k'", or "key 'k'[7]" for an array element), built only for an error
  // message: vocabularies hold hundreds of thousands of elements.
  struct Field {
    static constexpr uint64_t kNone = ~uint64_t(0);
    const std::string& base;
    uint64_t index = kNone;
    std::string str() const { return index == kNone ? base : base + "[" + std::to_string(index) + "]"; }
  };

  template <class T, class Stored>
  Result<Value> fixed(Value& v, const Field& f) {
    if (c_.remaining() < sizeof(T)) return c_.need(sizeof(T), f.str());
    v.data = Stored(c_.take<T>());
    return std::move(v);
  }

  Result<Value> value(ValueType type, const Field& f, int depth) {
    Value v;
    v.type = type;
    switch (type) {
      case ValueType::kU8: return fixed<uint8_t, uint64_t>(v, f);
      case ValueType::kU16: return fixed<uint16_t, uint64_t>(v, f);
      case ValueType::kU32: return fixed<uint32_t, uint64_t>(v, f);
      case ValueType::kU64: return fixed<uint64_t, uint64_t>(v, f);
      case ValueType::kI8: return fixed<int8_t, int64_t>(v, f);
      case ValueType::kI16: return fixed<int16_t, int64_t>(v, f);
      case ValueType::kI32: return fixed<int32_t, int64_t>(v, f);
      case ValueType::kI64: return fixed<int64_t, int64_t>(v, f);
      case ValueType::kF32: return fixed<float, double>(v, f);
      case ValueType::kF64: return fixed<double, double>(v, f);
      case ValueType::kBool: {
        if (c_.remaining() < 1) return c_.need(1, f.str());
        const uint8_t x = c_.take<uint8_t>();
        if (x > 1) return c_.corrupt(f.str(), "a bool (0 or 1)", std::to_string(x));
        v.data = x == 1;
        return v;
      }
      case ValueType::kString: {
        if (c_.remaining() >= 8 && c_.peek<uint64_t>() <= c_.remaining() - 8) {
          v.data = c_.take_string(size_t(c_.take<uint64_t>()));
          return v;
        }
        auto s = c_.string(f.str(), std::numeric_limits<uint64_t>::max());  // only to report the error
        if (!s.ok()) return s.status();
        return internal_error("GGUF reader: string check disagrees");
      }
      case ValueType::kArray: {
        const std::string field = f.str();
        if (depth >= kMaxArrayDepth)
          return c_.corrupt(field, "arrays nested at most " + std::to_string(kMaxArrayDepth) + " deep",
                            "a deeper array");
        TESSERA_ASSIGN_OR_RETURN(v.array_type, value_type(field + " element type"));
        TESSERA_ASSIGN_OR_RETURN(uint64_t n, c_.read<uint64_t>(field + " length"));
        const uint64_t fit = c_.remaining() / min_value_size(v.array_type);
        if (n > fit)
          return c_.corrupt(field + " length",
                            "at most " + std::to_string(fit) + " elements (what the rest of the file can hold)",
                            std::to_string(n));
        if (n > kMaxArrayElements - elements_)
          return c_.error(StatusCode::kUnsupported, field + " length",
                          "at most " + std::to_string(kMaxArrayElements) + " array elements in a file",
                          std::to_string(n + elements_));
        elements_ += n;
        Array items;
        items.reserve(size_t(n));
        for (uint64_t i = 0; i < n; ++i) {
          TESSERA_ASSIGN_OR_RETURN(Value e, value(v.array_type, Field{field, i}, depth + 1));
          items.push_back(std::move(e));
        }
        v.data = std::move(items);
        return v;
      }
    }
    return c_.corrupt(f.str(), "a GGUF value type 0..12", std::to_string(uint32_t(type)));
  }

 private:
  Cursor& c_;
  uint64_t elements_ = 0;
};

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // innermost first, as stored
  TensorType type;
  uint64_t offset;
  uint64_t nbytes;
};

bool is_known_ggml_type(uint32_t t) {
  // GGML's quantized types (2..23, 29, 31..39): valid GGUF, but Tessera reads only plain types.
  return t < 40;
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

const Tensor* File::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<File> File::open(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapped, MappedFile::open(path));
  auto bytes = mapped->bytes();
  TESSERA_ASSIGN_OR_RETURN(File f, parse(bytes, mapped, path));
  f.mapped_ = std::move(mapped);
  return f;
}

Result<File> File::parse(std::span<const std::byte> bytes, std::shared_ptr<const void> owner, const std::string& name) {
  File f;
  f.name_ = name;
  Cursor c(bytes, name);

  TESSERA_RETURN_IF_ERROR(c.need(4, "magic"));
  if (std::memcmp(bytes.data(), "GGUF", 4) != 0) {
    const std::string found = printable({reinterpret_cast<const char*>(bytes.data()), 4});
    return c.corrupt("magic", "\"GGUF\"", "\"" + found + "\" (not a GGUF file)");
  }
  (void)c.read<uint32_t>("magic");
  TESSERA_ASSIGN_OR_RETURN(f.version_, c.read<uint32_t>("version"));
  if (f.version_ != kVersion) {
    std::string why = (f.version_ & 0xffff) == 0 ? " (a big-endian GGUF?)" : " (re-convert to GGUF v3)";
    return c.error(StatusCode::kUnsupported, "version", std::to_string(kVersion), std::to_string(f.version_) + why);
  }
  TESSERA_ASSIGN_OR_RETURN(uint64_t n_tensors, c.read<uint64_t>("tensor count"));
  TESSERA_ASSIGN_OR_RETURN(uint64_t n_kv, c.read<uint64_t>("metadata kv count"));
  // A key/value takes at least 14 bytes (8 length + 1 key byte + 4 type + 1 value byte); a tensor info
  // at least 25 (8 length + 1 name byte + 4 n_dims + 4 type + 8 offset).
  if (n_kv > c.remaining() / 14)
    return c.corrupt("metadata kv count", "at most " + std::to_string(c.remaining() / 14) + " (what the file can hold)",
                     std::to_string(n_kv));
  if (n_tensors > c.remaining() / 25)
    return c.corrupt("tensor count", "at most " + std::to_string(c.remaining() / 25) + " (what the file can hold)",
                     std::to_string(n_tensors));

  MetadataParser meta(c);
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string idx = "metadata kv #" + std::to_string(i);
    TESSERA_ASSIGN_OR_RETURN(std::string key, c.string(idx + " key", kMaxKeyLength));
    if (key.empty()) return c.corrupt(idx + " key", "a non-empty key", "an empty string");
    const std::string field = "key " + quoted(key);
    if (f.kv_.count(key)) return c.corrupt(field, "each key once", "a duplicate");
    TESSERA_ASSIGN_OR_RETURN(ValueType type, meta.value_type(field + " value type"));
    TESSERA_ASSIGN_OR_RETURN(Value v, meta.value(type, MetadataParser::Field{field}, 0));
    f.kv_.emplace(std::move(key), std::move(v));
  }

  uint64_t alignment = 32;  // the GGUF default when general.alignment is absent
  if (auto it = f.kv_.find("general.alignment"); it != f.kv_.end()) {
    if (it->second.type != ValueType::kU32)
      return c.corrupt("key 'general.alignment'", "type u32", value_type_name(it->second.type));
    alignment = std::get<uint64_t>(it->second.data);
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
      return c.corrupt("key 'general.alignment'", "a power of two", std::to_string(alignment));
  }
  f.alignment_ = uint32_t(alignment);

  std::vector<TensorInfo> infos;
  infos.reserve(size_t(n_tensors));
  std::map<std::string, size_t> seen;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const std::string idx = "tensor #" + std::to_string(i);
    TensorInfo ti;
    TESSERA_ASSIGN_OR_RETURN(ti.name, c.string(idx + " name", kMaxTensorName));
    if (ti.name.empty()) return c.corrupt(idx + " name", "a non-empty name", "an empty string");
    const std::string field = "tensor " + quoted(ti.name);
    if (seen.count(ti.name)) return c.corrupt(field + " name", "each tensor name once", "a duplicate");
    seen.emplace(ti.name, i);
    TESSERA_ASSIGN_OR_RETURN(uint32_t n_dims, c.read<uint32_t>(field + " n_dims"));
    if (n_dims > kMaxDims)
      return c.corrupt(field + " n_dims", "at most " + std::to_string(kMaxDims), std::to_string(n_dims));
    for (uint32_t d = 0; d < n_dims; ++d) {
      TESSERA_ASSIGN_OR_RETURN(uint64_t dim, c.read<uint64_t>(field + " dimension " + std::to_string(d)));
      if (dim > uint64_t(std::numeric_limits<int64_t>::max()))
        return c.corrupt(field + " dimension " + std::to_string(d), "at most 2^63-1", std::to_string(dim));
      ti.dims.push_back(dim);
    }
    TESSERA_ASSIGN_OR_RETURN(uint32_t type, c.read<uint32_t>(field + " type"));
    auto dtype = dtype_of(TensorType(type));
    if (!dtype) {
      const std::string expected = "F32 (0), F16 (1), I8 (24), I16 (25), I32 (26), I64 (27), F64 (28) or BF16 (30)";
      if (is_known_ggml_type(type))
        return c.error(StatusCode::kUnsupported, field + " type", expected,
                       std::to_string(type) + " (a quantized GGML type Tessera does not read)");
      return c.corrupt(field + " type", expected, std::to_string(type) + " (not a GGML type)");
    }
    ti.type = TensorType(type);
    TESSERA_ASSIGN_OR_RETURN(ti.offset, c.read<uint64_t>(field + " offset"));
    if (ti.offset % alignment != 0)
      return c.corrupt(field + " offset", "a multiple of the alignment " + std::to_string(alignment),
                       std::to_string(ti.offset));
    uint64_t nbytes = dtype_size(*dtype);
    for (uint64_t dim : ti.dims) {
      if (__builtin_mul_overflow(nbytes, dim, &nbytes))
        return c.corrupt(field + " dimensions", "a byte size that fits in 64 bits", "an overflowing product");
    }
    ti.nbytes = nbytes;
    infos.push_back(std::move(ti));
  }

  f.data_offset_ = align_up(c.pos(), alignment);
  const uint64_t file_size = bytes.size();
  // Writers pad the header to the alignment even without tensors: a data section that starts past the
  // end is a truncated file (or an alignment no writer produced for it).
  if (f.data_offset_ > file_size)
    return c.corrupt("data section", "a start within the file (" + std::to_string(file_size) + " bytes)",
                     "offset " + std::to_string(f.data_offset_) + " (header end padded to the alignment " +
                         std::to_string(alignment) + ")");
  for (const TensorInfo& ti : infos) {
    const std::string field = "tensor " + quoted(ti.name);
    uint64_t begin = 0, end = 0;
    if (__builtin_add_overflow(f.data_offset_, ti.offset, &begin) || __builtin_add_overflow(begin, ti.nbytes, &end) ||
        end > file_size)
      return c.corrupt(field + " offset", "data within the file (" + std::to_string(file_size) + " bytes)",
                       "offset " + std::to_string(ti.offset) + " + " + std::to_string(ti.nbytes) +
                           " bytes after the data section at " + std::to_string(f.data_offset_));
  }
  // Overlaps: sort by offset; each tensor must start at or after the previous one's end.
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& ti : infos)
    if (ti.nbytes > 0) by_offset.push_back(&ti);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& prev = *by_offset[i - 1];
    const TensorInfo& cur = *by_offset[i];
    if (cur.offset < prev.offset + prev.nbytes)
      return c.corrupt("tensor " + quoted(cur.name) + " offset",
                       "at least " + std::to_string(prev.offset + prev.nbytes) + " (the end of tensor " +
                           quoted(prev.name) + ")",
                       std::to_string(cur.offset) + " (the tensors overlap)");
  }

  for (const TensorInfo& ti : infos) {
    Tensor t;
    t.name = ti.name;
    t.dtype = *dtype_of(ti.type);
    t.shape.assign(ti.dims.rbegin(), ti.dims.rend());  // GGUF is innermost-first, Tessera outermost-first
    t.data = bytes.data() + (f.data_offset_ + ti.offset);
    t.nbytes = size_t(ti.nbytes);
    t.owner = owner;
    f.tensors_.push_back(std::move(t));
    f.offsets_.push_back(ti.offset);
  }
  f.tensor_index_ = std::move(seen);
  return f;
}

}  // namespace tessera::gguf
