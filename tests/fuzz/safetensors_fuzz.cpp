// libFuzzer target for the safetensors reader: any input gives a Status or tensors that tile the data
// section exactly (sizes = shape × dtype, covering every data byte).
#include <cstdlib>
#include <cstring>

#include "format/checkpoint.h"

using namespace tessera;

static void require(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, std::string> meta;
  auto r = parse_safetensors({reinterpret_cast<const std::byte*>(data), size}, nullptr, "fuzz.safetensors", &meta);
  if (!r.ok()) {
    require(!r.status().message().empty());
    return 0;
  }
  uint64_t header = 0;
  std::memcpy(&header, data, 8);
  size_t total = 0;
  unsigned sum = 0;
  for (const Tensor& t : *r) {
    require(size_t(t.numel()) * dtype_size(t.dtype) == t.nbytes);
    for (size_t i = 0; i < t.nbytes; ++i) sum += unsigned(t.data[i]);
    total += t.nbytes;
  }
  require(total == size - 8 - header);
  return int(sum & 0);
}
