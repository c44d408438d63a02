// tessera inspect FILE [--format text|json]: metadata (general.* included), hyperparameters and tensors of a GGUF.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "command.h"
#include "core/printable.h"
#include "format/gguf.h"
#include "model/content_hash.h"
#include "model/hparams_gguf.h"
#include "model/model_weights.h"

namespace tessera::cli {
namespace {

using json = nlohmann::json;

std::string human_bytes(uint64_t b) {
  char buf[64];
  if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / double(1ull << 20));
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024.0);
  else std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)b);
  return buf;
}

std::string value_text(const gguf::Value& v) {
  if (auto* u = std::get_if<uint64_t>(&v.data)) return std::to_string(*u);
  if (auto* i = std::get_if<int64_t>(&v.data)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v.data)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", *d);
    return buf;
  }
  if (auto* b = std::get_if<bool>(&v.data)) return *b ? "true" : "false";
  if (auto* s = std::get_if<std::string>(&v.data)) return "\"" + printable(*s) + "\"";
  if (auto* a = std::get_if<gguf::Array>(&v.data)) return "[" + std::to_string(a->size()) + " items]";
  return "?";
}

json value_json(const gguf::Value& v) {
  if (auto* u = std::get_if<uint64_t>(&v.data)) return *u;
  if (auto* i = std::get_if<int64_t>(&v.data)) return *i;
  if (auto* d = std::get_if<double>(&v.data)) return *d;  // NaN/Inf become null
  if (auto* b = std::get_if<bool>(&v.data)) return *b;
  if (auto* s = std::get_if<std::string>(&v.data)) return *s;
  json out = json::array();
  for (const gguf::Value& e : std::get<gguf::Array>(v.data)) out.push_back(value_json(e));
  return out;
}

// llama.cpp's names for the general.file_type values Tessera writes (hparams_gguf.h).
std::string file_type_name(const gguf::File& f) {
  auto t = f.get_int("general.file_type");
  if (!t.ok()) return "";
  switch (*t) {
    case int64_t(GgufFileType::kAllF32): return "F32 (0)";
    case int64_t(GgufFileType::kMostlyF16): return "mostly F16 (1)";
    case int64_t(GgufFileType::kNotSpecified): return "Tessera int8/int16 (1024: no llama.cpp file type)";
    default: return std::to_string(*t);
  }
}

int run_inspect(const std::string& path, const std::string& format, bool verify) {
  auto f = gguf::File::open(path);
  if (!f.ok()) return fail("inspect", f.status().message());
  auto hp = ModelWeights::read_hparams(f.value());
  uint64_t total = 0;
  int64_t params = 0;
  for (const Tensor& t : f->tensors()) {
    total += t.nbytes;
    params += t.numel();
  }
  if (format == "json") {
    json out = {{"file", path}, {"gguf_version", f->version()}, {"alignment", f->alignment()}};
    json meta = json::object();
    for (auto& [k, v] : f->metadata()) meta[k] = value_json(v);
    out["metadata"] = std::move(meta);
    if (hp.ok()) {
      const HParams& h = hp.value();
      out["model"] = {{"n_layer", h.n_layer},        {"n_embd", h.n_embd},         {"n_head", h.n_head},
                      {"head_dim", h.head_dim()},    {"vocab_size", h.vocab_size}, {"block_size", h.block_size},
                      {"pmem_count", h.pmem_count},  {"pmem_size", h.pmem_size},   {"method", h.method.name()},
                      {"mask_offset", h.mask_offset}};
    } else {
      out["model"] = nullptr;
      out["model_error"] = hp.status().message();
    }
    json tensors = json::array();
    for (const Tensor& t : f->tensors())
      tensors.push_back(
          {{"name", t.name}, {"dtype", std::string(dtype_name(t.dtype))}, {"shape", t.shape}, {"bytes", t.nbytes}});
    out["tensors"] = std::move(tensors);
    out["tensor_count"] = f->tensors().size();
    out["elements"] = params;
    out["tensor_bytes"] = total;
    out["checksum"] = f->has(keys::kContentHash) ? "recorded" : "none";
    std::cout << out.dump(1, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::cout << path << ": GGUF v" << f->version() << ", alignment " << f->alignment() << "\n\nmetadata:\n";
    for (auto& [k, v] : f->metadata()) std::cout << "  " << printable(k) << " = " << value_text(v) << "\n";
    if (f->has("general.name") || f->has("general.file_type")) {
      auto name = f->get_string("general.name");
      std::cout << "\nname: " << (name.ok() ? printable(*name) : std::string("(none)"));
      if (const std::string ft = file_type_name(f.value()); !ft.empty()) std::cout << ", file type " << ft;
      std::cout << "\n";
    }
    if (hp.ok()) {
      const HParams& h = hp.value();
      std::cout << "\nmodel: " << h.n_layer << " layers, C=" << h.n_embd << ", " << h.n_head
                << " heads (d=" << h.head_dim() << "), vocab " << h.vocab_size << ", block " << h.block_size
                << ", pmem " << h.pmem_count << "x" << h.pmem_size << ", attention " << h.method.name()
                << ", mask offset " << h.mask_offset << "\n";
    }
    std::cout << "\ntensors:\n";
    for (const Tensor& t : f->tensors())
      std::printf("  %-32s %-5s %-20s %12s\n", printable(t.name).c_str(), std::string(dtype_name(t.dtype)).c_str(),
                  t.shape_string().c_str(), human_bytes(t.nbytes).c_str());
    std::cout << "\n"
              << f->tensors().size() << " tensors, " << params << " elements, " << human_bytes(total)
              << " of tensor data\n";
    if (!verify)
      std::cout << "checksum: " << (f->has(keys::kContentHash) ? "recorded (check it with --verify)" : "none recorded")
                << "\n";
  }
  std::cout.flush();
  if (!hp.ok()) return fail("inspect", "not a loadable Memory Mosaics model: " + hp.status().message());
  if (verify) {
    const Status checked = verify_content_hash(f.value());
    if (!checked.ok()) return fail("inspect", checked.message());
    if (format != "json") std::cout << "checksum: ok (xxh64 " << printable(*f->get_string(keys::kContentHash)) << ")\n";
  }
  return kExitOk;
}

Registration reg(
    "inspect", "print a GGUF model's metadata, hyperparameters and tensors",
    [](CLI::App& sub) -> Action {
      auto path = std::make_shared<std::string>();
      auto format = std::make_shared<std::string>("text");
      auto verify = std::make_shared<bool>(false);
      sub.add_option("file", *path, "model .gguf")->required();
      add_format_option(sub, *format);
      sub.add_flag("--verify", *verify,
                   "recompute the tensor checksum recorded at convert/quantize time (fails when it "
                   "differs or none is recorded)");
      return [path, format, verify] { return run_inspect(*path, *format, *verify); };
    },
    20);

}  // namespace
}  // namespace tessera::cli
