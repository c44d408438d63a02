// tessera inspect FILE: hyperparameters and tensors of a Tessera GGUF.
#include <cstdio>
#include <iostream>

#include "command.h"
#include "core/printable.h"
#include "format/gguf.h"
#include "model/content_hash.h"
#include "model/model_weights.h"

namespace tessera::cli {
namespace {

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

int run_inspect(const std::string& path, bool verify) {
  auto f = gguf::File::open(path);
  if (!f.ok()) return fail("inspect", f.status().message());
  std::cout << path << ": GGUF v" << f->version() << ", alignment " << f->alignment() << "\n\nmetadata:\n";
  for (auto& [k, v] : f->metadata()) std::cout << "  " << printable(k) << " = " << value_text(v) << "\n";
  auto hp = ModelWeights::read_hparams(f.value());
  if (hp.ok()) {
    const HParams& h = hp.value();
    std::cout << "\nmodel: " << h.n_layer << " layers, C=" << h.n_embd << ", " << h.n_head << " heads (d=" << h.head_dim()
              << "), vocab " << h.vocab_size << ", block " << h.block_size << ", pmem " << h.pmem_count << "x"
              << h.pmem_size << ", attention " << h.method.name() << ", mask offset " << h.mask_offset << "\n";
  } else {
    std::cout.flush();  // the failure goes to stderr, after what was printed
    std::cerr << "tessera inspect: error: not a loadable Memory Mosaics model: " << hp.status().message() << "\n";
  }
  std::cout << "\ntensors:\n";
  uint64_t total = 0;
  int64_t params = 0;
  for (const Tensor& t : f->tensors()) {
    std::printf("  %-32s %-5s %-20s %12s\n", printable(t.name).c_str(), std::string(dtype_name(t.dtype)).c_str(),
                t.shape_string().c_str(), human_bytes(t.nbytes).c_str());
    total += t.nbytes;
    params += t.numel();
  }
  std::cout << "\n" << f->tensors().size() << " tensors, " << params << " elements, " << human_bytes(total)
            << " of tensor data\n";
  if (!verify) {
    std::cout << "checksum: " << (f->has(keys::kContentHash) ? "recorded (check it with --verify)" : "none recorded")
              << "\n";
    return hp.ok() ? 0 : 1;
  }
  const Status checked = verify_content_hash(f.value());
  if (!checked.ok()) {
    std::cout.flush();
    return fail("inspect", checked.message());
  }
  std::cout << "checksum: ok (xxh64 " << printable(*f->get_string(keys::kContentHash)) << ")\n";
  return hp.ok() ? 0 : 1;
}

Registration reg("inspect", "print a GGUF model's hyperparameters and tensors",
                 [](CLI::App& sub) -> Action {
                   auto path = std::make_shared<std::string>();
                   auto verify = std::make_shared<bool>(false);
                   sub.add_option("file", *path, "model .gguf")->required();
                   sub.add_flag("--verify", *verify,
                                "recompute the tensor checksum recorded at convert/quantize time (fails when it "
                                "differs or none is recorded)");
                   return [path, verify] { return run_inspect(*path, *verify); };
                 },
                 20);

}  // namespace
}  // namespace tessera::cli
