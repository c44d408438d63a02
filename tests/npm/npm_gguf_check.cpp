// Writes a GGUF with Tessera's writer, has the independent reader @huggingface/gguf (tests/npm/gguf_dump.mjs)
// parse it, and compares what it saw with what Tessera's own reader reports: tensor names, GGML types,
// shapes (npm: innermost-first as stored; Tessera: outermost-first), data offsets, the data section start,
// and every metadata key with its type and value. Also checks the tensor bytes at npm's absolute offsets.
// Usage: npm_gguf_check NODE SCRIPT OUT.gguf             (writes the sample file first)
//        npm_gguf_check NODE SCRIPT --existing FILE.gguf  (e.g. a model from `tessera convert`)
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "format/gguf.h"

using namespace tessera;
using json = nlohmann::json;

namespace {

int failures = 0;
void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::cerr << "MISMATCH: " << what << "\n";
  }
}

gguf::Value scalar(gguf::ValueType t, std::variant<uint64_t, int64_t, double, bool, std::string, gguf::Array> d) {
  gguf::Value v;
  v.type = t;
  v.data = std::move(d);
  return v;
}

gguf::Value array(gguf::ValueType elem, gguf::Array items) {
  gguf::Value v;
  v.type = gguf::ValueType::kArray;
  v.array_type = elem;
  v.data = std::move(items);
  return v;
}

// A Tessera Value in gguf_dump.mjs's conventions: 64-bit integers as decimal strings.
json to_json(const gguf::Value& v) {
  using gguf::ValueType;
  switch (v.type) {
    case ValueType::kU64: return std::to_string(std::get<uint64_t>(v.data));
    case ValueType::kI64: return std::to_string(std::get<int64_t>(v.data));
    case ValueType::kU8:
    case ValueType::kU16:
    case ValueType::kU32: return std::get<uint64_t>(v.data);
    case ValueType::kI8:
    case ValueType::kI16:
    case ValueType::kI32: return std::get<int64_t>(v.data);
    case ValueType::kF32:
    case ValueType::kF64: return std::get<double>(v.data);
    case ValueType::kBool: return std::get<bool>(v.data);
    case ValueType::kString: return std::get<std::string>(v.data);
    case ValueType::kArray: {
      json a = json::array();
      for (const auto& e : std::get<gguf::Array>(v.data)) a.push_back(to_json(e));
      return a;
    }
  }
  return nullptr;
}

Tensor patterned(const std::string& name, DType dt, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<std::byte> b(size_t(n) * dtype_size(dt));
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte((i * 131 + name.size() * 7) & 0xff);
  return make_owned_tensor(name, dt, std::move(shape), std::move(b));
}

std::string run(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  status = pclose(p);
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

// Writes a GGUF with tensors of several types (a 4-dim one included) and metadata of every value type.
Result<std::vector<Tensor>> write_sample(const std::string& path) {
  using gguf::ValueType;
  gguf::Writer w;
  w.set_string("general.architecture", "memory-mosaics");
  w.set_string("general.name", "npm check \xce\xb1");
  w.set(std::string("t.u8"), scalar(ValueType::kU8, uint64_t(200)));
  w.set(std::string("t.i8"), scalar(ValueType::kI8, int64_t(-100)));
  w.set(std::string("t.u16"), scalar(ValueType::kU16, uint64_t(60000)));
  w.set(std::string("t.i16"), scalar(ValueType::kI16, int64_t(-30000)));
  w.set_u32("memory-mosaics.block_count", 4000000000u);
  w.set_i32("t.i32", -123456789);
  w.set_u64("t.u64", 18000000000000000001ull);
  w.set(std::string("t.i64"), scalar(ValueType::kI64, int64_t(-9000000000000000001ll)));
  w.set_f32("t.f32", 0.1f);
  w.set_f64("t.f64", -1.0 / 3.0);
  w.set_bool("t.bool", true);
  w.set_string_array("tokenizer.ggml.tokens", {"<s>", "a", "", "\xce\xb2"});
  w.set_f32_array("t.f32s", {1.5f, -0.2f, 3e-20f});
  w.set_i32_array("t.i32s", {-1, 0, 2147483647});
  w.set(std::string("t.u64s"), array(ValueType::kU64, {scalar(ValueType::kU64, uint64_t(1) << 63)}));
  w.set(std::string("t.bools"),
        array(ValueType::kBool, {scalar(ValueType::kBool, false), scalar(ValueType::kBool, true)}));
  w.set(std::string("t.nested"),
        array(ValueType::kArray, {array(ValueType::kI16, {scalar(ValueType::kI16, int64_t(-5))})}));

  const std::vector<Tensor> tensors = {
      patterned("blk.0.attn_k.weight", DType::kF32, {4, 3, 2, 5}),
      patterned("token_embd.weight", DType::kF16, {16, 8}),
      patterned("blk.0.attn_k.q8", DType::kI8, {3, 100}),
      patterned("blk.0.attn_k.scale_i32", DType::kI32, {7}),
      patterned("bf16.t", DType::kBF16, {2, 2}),
      patterned("f64.t", DType::kF64, {3, 1}),
      patterned("i16.t", DType::kI16, {5}),
      patterned("i64.t", DType::kI64, {2, 1, 1}),
  };
  for (const Tensor& t : tensors) TESSERA_RETURN_IF_ERROR(w.add_tensor(t));
  TESSERA_RETURN_IF_ERROR(w.write(path));
  return tensors;
}

// Compares @huggingface/gguf's view of `path` with Tessera's reader; `written`, when given, holds the
// tensors the file was written from. Returns the process exit code.
int compare(const std::string& node, const std::string& script, const std::string& path,
            const std::vector<Tensor>* written) {
  using gguf::ValueType;
  auto file = gguf::File::open(path);
  if (!file.ok()) return std::cerr << file.status().to_string() << "\n", 1;
  const std::vector<Tensor>& tensors = written ? *written : file->tensors();

  int status = 0;
  const std::string out = run(shell_quote(node) + " " + shell_quote(script) + " " + shell_quote(path), status);
  if (status != 0) return std::cerr << "gguf_dump.mjs failed (status " << status << ")\n", 1;
  json npm = json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (npm.is_discarded()) return std::cerr << "gguf_dump.mjs printed invalid JSON:\n" << out << "\n", 1;

  check(npm["version"] == 3, "version");
  check(npm["tensor_count"] == std::to_string(file->tensors().size()), "tensor_count");
  check(npm["kv_count"] == std::to_string(file->metadata().size()), "kv_count");
  check(npm["tensor_data_offset"] == std::to_string(file->data_section_offset()), "tensor data offset");

  // Metadata: the same keys, wire types and values.
  check(npm["metadata"].size() == file->metadata().size(), "number of metadata keys");
  for (const auto& [key, v] : file->metadata()) {
    if (!npm["metadata"].contains(key)) {
      check(false, "key '" + key + "' missing in npm's view");
      continue;
    }
    const json& m = npm["metadata"][key];
    check(m["type"] == uint32_t(v.type), "key '" + key + "' type");
    if (v.type == ValueType::kArray) check(m["sub_type"] == uint32_t(v.array_type), "key '" + key + "' element type");
    check(m["value"] == to_json(v),
          "key '" + key + "' value: npm " + m["value"].dump() + ", tessera " + to_json(v).dump());
  }

  // Tensors: names, types, shapes (reversed), offsets, and the bytes at npm's absolute offsets.
  const auto& nt = npm["tensors"];
  check(nt.size() == tensors.size(), "number of tensors");
  auto mapped = MappedFile::open(path);  // the raw bytes
  if (!mapped.ok()) return std::cerr << mapped.status().to_string() << "\n", 1;
  for (size_t i = 0; i < tensors.size() && i < nt.size(); ++i) {
    const Tensor& mine = file->tensors()[i];
    const std::string what = "tensor '" + tensors[i].name + "'";
    check(nt[i]["name"] == mine.name && mine.name == tensors[i].name, what + " name");
    check(nt[i]["type"] == uint32_t(*gguf::tensor_type_of(mine.dtype)), what + " type");
    json shape = json::array();
    for (auto d = mine.shape.rbegin(); d != mine.shape.rend(); ++d) shape.push_back(std::to_string(*d));
    check(nt[i]["shape"] == shape,
          what + " shape: npm " + nt[i]["shape"].dump() + ", tessera reversed " + shape.dump());
    check(mine.shape == tensors[i].shape, what + " shape round trip");
    check(nt[i]["offset"] == std::to_string(file->tensor_offsets()[i]), what + " offset");
    const uint64_t abs = std::stoull(npm["tensor_data_offset"].get<std::string>()) +
                         std::stoull(nt[i]["offset"].get<std::string>());
    const auto bytes = (*mapped)->bytes();
    check(abs + tensors[i].nbytes <= bytes.size() &&
              std::memcmp(bytes.data() + abs, tensors[i].data, tensors[i].nbytes) == 0,
          what + " bytes at npm's offset");
  }

  if (failures) {
    std::cerr << failures << " mismatch(es) between @huggingface/gguf and Tessera\n";
    return 1;
  }
  std::cout << "@huggingface/gguf agrees with Tessera on " << tensors.size() << " tensors and "
            << file->metadata().size() << " metadata keys of " << path << "\n";
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[3]) == "--existing") return compare(argv[1], argv[2], argv[4], nullptr);
  if (argc != 4) {
    std::cerr << "usage: npm_gguf_check NODE SCRIPT OUT.gguf | npm_gguf_check NODE SCRIPT --existing FILE.gguf\n";
    return 2;
  }
  auto written = write_sample(argv[3]);
  if (!written.ok()) return std::cerr << written.status().to_string() << "\n", 1;
  return compare(argv[1], argv[2], argv[3], &*written);
}
