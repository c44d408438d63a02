// libFuzzer target for the torch checkpoint reader (ZIP + restricted unpickler + resolver).
// Each input is tried twice: as a whole ckpt.pt, and as the data.pkl of a well-formed archive
// with four 64-byte storages (so mutations reach the unpickler past the ZIP CRC checks).
// Build and run: see tests/fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <string>

#include "format/checkpoint.h"
#include "../format/torch_test_support.h"

namespace {

void consume(const tessera::Result<tessera::Checkpoint>& r) {
  if (!r.ok()) {
    if (r.status().message().empty()) __builtin_trap();  // every error must say something
    return;
  }
  volatile uint8_t sink = 0;  // touch every byte: ASan reports any view outside its buffer
  for (const tessera::Tensor& t : r->tensors) {
    if (t.nbytes != size_t(t.numel()) * tessera::dtype_size(t.dtype)) __builtin_trap();
    for (size_t i = 0; i < t.nbytes; ++i) sink = sink ^ uint8_t(t.data[i]);
  }
  (void)r->config.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  consume(tessera::read_torch_checkpoint_bytes({bytes, size}, "fuzz.pt"));

  std::string pickle(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> entries = {{"f/data.pkl", pickle}};
  for (int i = 0; i < 4; ++i) entries.emplace_back("f/data/" + std::to_string(i), std::string(64, char(i + 1)));
  const std::string zip = tessera::testing::make_zip(entries);
  consume(tessera::read_torch_checkpoint_bytes(tessera::testing::as_bytes(zip), "wrapped.pt"));
  return 0;
}
