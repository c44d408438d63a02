// safetensors (Hugging Face): 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data.
// The reader checks that the tensors tile the data section exactly (contiguous, no holes, no overlaps).
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/file_io.h"
#include "format/checkpoint.h"
#include "core/printable.h"

namespace tessera {

namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the limit Hugging Face's own reader uses
constexpr int kMaxJsonDepth = 64;                  // a safetensors header needs 3

// Forwards SAX events to nlohmann's DOM builder (which is told not to throw), and records the first
// syntax error, duplicate top-level key or excessive nesting, so parsing never throws.
class CheckedSax {
 public:
  explicit CheckedSax(json& out) : dom_(out, /*allow_exceptions=*/false) {}
  std::string error;

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) { return dom_.number_float(v, s); }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) {
    if (++depth_ > kMaxJsonDepth) return fail("nesting deeper than " + std::to_string(kMaxJsonDepth));
    object_keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(json::string_t& k) {
    if (!object_keys_.back().insert(k).second) return fail("duplicate key \"" + k + "\"");
    return dom_.key(k);
  }
  bool end_object() {
    --depth_;
    object_keys_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    if (++depth_ > kMaxJsonDepth) return fail("nesting deeper than " + std::to_string(kMaxJsonDepth));
    return dom_.start_array(n);
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& last_token, const nlohmann::detail::exception& ex) {
    if (error.empty()) error = std::string(ex.what()) + " (byte " + std::to_string(position) + ")";
    return false;
  }

 private:
  bool fail(std::string why) {
    if (error.empty()) error = std::move(why);
    return false;
  }
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int depth_ = 0;
  std::vector<std::set<std::string>> object_keys_;  // one set per open object: a key twice is ambiguous
};

Result<json> parse_json(std::string_view text, const std::string& where) {
  json out;
  CheckedSax sax(out);
  const bool ok = json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json, true);
  if (!ok || !sax.error.empty())
    return corrupt_file(where + ": expected valid JSON, found " + (sax.error.empty() ? "invalid JSON" : sax.error));
  return out;
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = uint8_t(s[i]);
    const size_t extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 4;
    if (extra == 4 || extra >= s.size() - i) return false;
    for (size_t k = 1; k <= extra; ++k)
      if ((uint8_t(s[i + k]) >> 6) != 2) return false;
    i += extra + 1;
  }
  return true;
}

std::optional<DType> dtype_from_safetensors(const std::string& s) {
  if (s == "BOOL") return DType::kU8;  // bytes 0/1; Tessera has no bool dtype
  auto t = dtype_from_name(s);
  return t;
}

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

}  // namespace

Result<std::vector<Tensor>> parse_safetensors(std::span<const std::byte> bytes, std::shared_ptr<const void> owner,
                                              const std::string& name, std::map<std::string, std::string>* metadata) {
  auto err = [&](const std::string& field, const std::string& expected, const std::string& found) {
    return corrupt_file(name + ": " + field + ": expected " + expected + ", found " + found);
  };
  if (bytes.size() < 8)
    return err("header length", "8 bytes", std::to_string(bytes.size()) + " (the file is truncated)");
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxHeaderBytes) return err("header length", "at most " + std::to_string(kMaxHeaderBytes), std::to_string(n));
  if (n > bytes.size() - 8)
    return err("header length", "at most the " + std::to_string(bytes.size() - 8) + " bytes after it",
               std::to_string(n) + " (the file is truncated)");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), size_t(n));
  TESSERA_ASSIGN_OR_RETURN(json header, parse_json(text, name + ": header"));
  if (!header.is_object()) return err("header", "a JSON object", std::string(header.type_name()));

  const uint64_t data_start = 8 + n;
  const uint64_t data_size = bytes.size() - data_start;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) return err("__metadata__", "an object of strings", std::string(v.type_name()));
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          return err("__metadata__ '" + printable_prefix(m.key(), 256) + "'", "a string",
                     std::string(m.value().type_name()));
        if (metadata) (*metadata)[m.key()] = m.value().get_ref<const std::string&>();
      }
      continue;
    }
    const std::string field = "tensor '" + printable_prefix(key, 256) + "'";
    if (!v.is_object()) return err(field, "an object {dtype, shape, data_offsets}", std::string(v.type_name()));
    Entry e;
    e.name = key;
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string())
      return err(field + " dtype", "a string", dt == v.end() ? "none" : dt->type_name());
    const std::string& dts = dt->get_ref<const std::string&>();
    auto dtype = dtype_from_safetensors(dts);
    if (!dtype)
      return unsupported(name + ": " + field +
                         " dtype: expected F32, F16, BF16, F64, I64, I32, I16, I8, U8 or BOOL, found " + dts);
    e.dtype = *dtype;
    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array())
      return err(field + " shape", "an array", sh == v.end() ? "none" : sh->type_name());
    uint64_t nbytes = dtype_size(e.dtype);
    for (const json& d : *sh) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(INT64_MAX))
        return err(field + " shape", "non-negative integers", sh->dump());
      e.shape.push_back(int64_t(d.get<uint64_t>()));
      if (__builtin_mul_overflow(nbytes, d.get<uint64_t>(), &nbytes))
        return err(field + " shape", "a byte size that fits in 64 bits", sh->dump());
    }
    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      return err(field + " data_offsets", "[begin, end] (two non-negative integers)",
                 off == v.end() ? "none" : off->dump());
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    if (e.end < e.begin) return err(field + " data_offsets", "begin <= end", off->dump());
    if (e.end > data_size)
      return err(field + " data_offsets", "within the " + std::to_string(data_size) + " data bytes", off->dump());
    if (e.end - e.begin != nbytes)
      return err(field + " data_offsets",
                 std::to_string(nbytes) + " bytes (shape " + sh->dump() + " × " + std::to_string(dtype_size(e.dtype)) +
                     "-byte " + dts + ")",
                 std::to_string(e.end - e.begin) + " bytes " + off->dump());
    entries.push_back(std::move(e));
  }

  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (const Entry& e : entries) {
    if (e.begin != expected) {
      const std::string what = e.begin < expected ? " (overlaps the tensor before it)" : " (a hole before it)";
      return err("tensor '" + printable_prefix(e.name, 256) + "' data_offsets", "begin " + std::to_string(expected),
                 std::to_string(e.begin) + what);
    }
    expected = e.end;
  }
  if (expected != data_size)
    return err("data section", std::to_string(expected) + " bytes (the end of the last tensor)",
               std::to_string(data_size) + " bytes");

  std::vector<Tensor> out;
  out.reserve(entries.size());
  for (Entry& e : entries) {
    Tensor t;
    t.name = std::move(e.name);
    t.dtype = e.dtype;
    t.shape = std::move(e.shape);
    t.nbytes = size_t(e.end - e.begin);
    const std::byte* p = bytes.data() + data_start + e.begin;
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(t.dtype) != 0) {
      // An unpadded header leaves the data misaligned for its type: copy rather than read unaligned.
      t = make_owned_tensor(std::move(t.name), t.dtype, std::move(t.shape), std::vector<std::byte>(p, p + t.nbytes));
    } else {
      t.data = p;
      t.owner = owner;
    }
    out.push_back(std::move(t));
  }
  return out;
}

namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";

Result<json> read_json_object(const std::filesystem::path& file) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::byte> text, read_file(file.string()));
  TESSERA_ASSIGN_OR_RETURN(json j, parse_json(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()),
                                              file.string()));
  if (!j.is_object()) return corrupt_file(file.string() + ": expected a JSON object, found " + j.type_name());
  return j;
}

// A shard named by the index must be a plain file name inside the folder (no paths, no "..").
bool plain_shard_name(const std::string& s) {
  return s.ends_with(".safetensors") && s.find('/') == std::string::npos && s.find('\\') == std::string::npos &&
         s.front() != '.';
}

// save_pretrained's sharded layout: the index maps every tensor to its shard; the shards must hold exactly
// the tensors the index gives them, each tensor once. The shards' mappings go to `files`.
Status read_sharded(const std::filesystem::path& folder, Checkpoint& ck,
                    std::vector<std::shared_ptr<MappedFile>>& files) {
  const std::filesystem::path index_file = folder / kIndexName;
  const std::string index = index_file.string();
  TESSERA_ASSIGN_OR_RETURN(json j, read_json_object(index_file));
  auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object() || wm->empty())
    return corrupt_file(index + ": weight_map: expected an object {tensor: shard file}, found " +
                        (wm == j.end() ? std::string("none") : wm->dump().substr(0, 80)));
  std::map<std::string, std::string> shard_of;             // tensor -> shard
  std::map<std::string, std::vector<std::string>> listed;  // shard -> tensors, shards in name order
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it.value().is_string() || !plain_shard_name(it.value().get_ref<const std::string&>()))
      return corrupt_file(index + ": weight_map['" + it.key() +
                          "']: expected a .safetensors file name in the same folder, found " + it.value().dump());
    shard_of[it.key()] = it.value().get<std::string>();
    listed[it.value().get<std::string>()].push_back(it.key());
  }
  std::map<std::string, std::string> found_in;  // tensor -> shard it was read from
  for (const auto& [shard, names] : listed) {
    const std::filesystem::path shard_file = folder / shard;
    std::error_code ec;
    if (!std::filesystem::exists(shard_file, ec))
      return not_found(index + ": weight_map['" + names.front() + "']: shard '" + shard + "' (" +
                       std::to_string(names.size()) + " tensors) is missing from " + folder.string());
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapped, MappedFile::open(shard_file.string()));
    TESSERA_ASSIGN_OR_RETURN(std::vector<Tensor> tensors,
                             parse_safetensors(mapped->bytes(), mapped, shard_file.string()));
    files.push_back(mapped);
    for (Tensor& t : tensors) {
      if (auto seen = found_in.find(t.name); seen != found_in.end())
        return corrupt_file(shard_file.string() + ": tensor '" + t.name +
                            "': expected once in the checkpoint, found in '" + seen->second + "' too");
      auto want = shard_of.find(t.name);
      if (want == shard_of.end())
        return corrupt_file(shard_file.string() + ": tensor '" + t.name + "' is not in " + index + " weight_map");
      if (want->second != shard)
        return corrupt_file(shard_file.string() + ": tensor '" + t.name + "': " + index + " weight_map puts it in '" +
                            want->second + "'");
      found_in[t.name] = shard;
      ck.tensors.push_back(std::move(t));
    }
    for (const std::string& name : names)
      if (!found_in.contains(name))
        return corrupt_file(index + ": weight_map['" + name + "'] = '" + shard + "', but " + shard_file.string() +
                            " has no tensor '" + name + "'");
  }
  return Status();
}

// The files are memory-mapped, so the tensors' bytes would otherwise be read from disk by their first
// use (the conversion). One load per page reads every page in here, where the reading is reported,
// without copying the weights. progress(done, total) in bytes after every chunk and at the end.
void read_pages(const std::vector<std::shared_ptr<MappedFile>>& files,
                const std::function<void(int64_t, int64_t)>& progress) {
  constexpr size_t kChunk = size_t(8) << 20;
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  int64_t total = 0, done = 0;
  for (const auto& f : files) total += int64_t(f->bytes().size());
  volatile uint8_t sink = 0;  // the loads may not be left out
  for (const auto& f : files) {
    const std::span<const std::byte> b = f->bytes();
    for (size_t at = 0; at < b.size(); at += kChunk) {
      const size_t end = std::min(b.size(), at + kChunk);
      for (size_t i = at; i < end; i += page) sink = sink ^ uint8_t(b[i]);
      done += int64_t(end - at);
      if (progress) progress(done, total);
    }
  }
  if (progress) progress(total, total);
}

}  // namespace

Result<Checkpoint> read_safetensors(const std::string& path, const std::function<void(int64_t, int64_t)>& progress) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path file = path, config;
  Checkpoint ck;
  ck.format = "safetensors";
  ck.path = path;
  std::vector<std::shared_ptr<MappedFile>> files;
  const bool is_index = fs::path(path).filename() == kIndexName;
  if (fs::is_directory(path, ec) || is_index) {
    const fs::path folder = is_index ? fs::path(path).parent_path() : fs::path(path);
    file = folder / "model.safetensors";
    config = folder / "config.json";
    if (is_index || !fs::exists(file, ec)) {
      if (!fs::exists(folder / kIndexName, ec))
        return not_found(path + ": expected model.safetensors or " + kIndexName + " in the folder, found neither");
      TESSERA_RETURN_IF_ERROR(read_sharded(folder, ck, files));
      file.clear();
    }
  } else {
    config = fs::path(path).parent_path() / "config.json";
  }
  if (!file.empty()) {
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapped, MappedFile::open(file.string()));
    TESSERA_ASSIGN_OR_RETURN(ck.tensors, parse_safetensors(mapped->bytes(), mapped, file.string()));
    files.push_back(mapped);
  }
  if (fs::exists(config, ec)) {
    TESSERA_ASSIGN_OR_RETURN(ck.config, read_json_object(config));
    ck.config_file = config.string();
  }
  read_pages(files, progress);  // every header and tensor table is valid: now the data
  return ck;
}

Status write_safetensors(const std::string& file, const std::vector<Tensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  const std::string who = "safetensors writer: " + file;
  json header = json::object();
  if (!metadata.empty()) {
    json m = json::object();
    for (const auto& [k, v] : metadata) {
      if (!valid_utf8(k) || !valid_utf8(v))
        return invalid_argument(who + ": __metadata__ '" + printable_prefix(k, 256) + "': expected UTF-8");
      m[k] = v;
    }
    header["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors) {
    const std::string field = who + ": tensor '" + printable_prefix(t.name, 256) + "'";
    if (t.name.empty() || t.name == "__metadata__" || !valid_utf8(t.name))
      return invalid_argument(field + ": expected a non-empty UTF-8 name other than __metadata__");
    if (header.contains(t.name)) return invalid_argument(field + ": expected each name once, found a duplicate");
    uint64_t n = dtype_size(t.dtype);
    json shape = json::array();
    for (int64_t d : t.shape) {
      if (d < 0 || __builtin_mul_overflow(n, uint64_t(d), &n))
        return invalid_argument(field + " shape: expected non-negative dimensions, found " + t.shape_string());
      shape.push_back(d);
    }
    if (n != t.nbytes)
      return invalid_argument(field + " bytes: expected " + std::to_string(n) + ", found " + std::to_string(t.nbytes));
    header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))},
                      {"shape", std::move(shape)},
                      {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  // `replace` never fires on the validated strings; it only guarantees dump() cannot throw.
  std::string text = header.dump(-1, ' ', false, json::error_handler_t::replace);
  text.resize((text.size() + 7) / 8 * 8, ' ');  // keeps the data 8-byte aligned, as Hugging Face's writer does
  return write_file_atomically(file, [&](const ByteSink& sink) -> Status {
    const uint64_t n = text.size();
    TESSERA_RETURN_IF_ERROR(sink({reinterpret_cast<const std::byte*>(&n), 8}));
    TESSERA_RETURN_IF_ERROR(sink({reinterpret_cast<const std::byte*>(text.data()), text.size()}));
    for (const Tensor& t : tensors)
      if (t.nbytes > 0) TESSERA_RETURN_IF_ERROR(sink({t.data, t.nbytes}));
    return Status();
  });
}

}  // namespace tessera
