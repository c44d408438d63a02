// libFuzzer target for the GGUF reader. Any input must give a Status or a valid File, never a crash,
// an out-of-bounds read (ASan) or undefined behaviour (UBSan). For accepted files it also checks that
// the writer reproduces them: write the parsed metadata and tensors, parse again, compare.
#include <cstdlib>
#include <cstring>

#include "format/gguf.h"

using namespace tessera;

static void require(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = gguf::File::parse({reinterpret_cast<const std::byte*>(data), size}, nullptr, "fuzz.gguf");
  if (!f.ok()) {
    require(!f.status().message().empty());
    return 0;
  }
  // Touch every tensor byte (ASan checks the bounds) and exercise the getters.
  unsigned sum = 0;
  for (const Tensor& t : f->tensors())
    for (size_t i = 0; i < t.nbytes; ++i) sum += unsigned(t.data[i]);
  for (const auto& [key, v] : f->metadata()) {
    (void)f->get_int(key);
    (void)f->get_float(key);
    (void)f->get_string_array(key);
    (void)f->get_float_array(key);
    (void)f->get_int_array(key);
  }
  if (f->alignment() < 8) return int(sum & 0);  // the writer only writes alignments >= 8

  gguf::Writer w(f->alignment());
  for (const auto& [key, v] : f->metadata()) w.set(key, v);
  for (const Tensor& t : f->tensors())
    if (!w.add_tensor(t).ok()) return 0;  // e.g. a 64-byte name: readable, but the writer keeps GGML's 63
  auto bytes = w.serialize();
  require(bytes.ok());
  auto again = gguf::File::parse(*bytes, nullptr, "rewritten.gguf");
  require(again.ok());
  require(again->metadata().size() == f->metadata().size() + (f->has("general.alignment") ? 0 : 1));
  require(again->tensors().size() == f->tensors().size());
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const Tensor& a = f->tensors()[i];
    const Tensor& b = again->tensors()[i];
    require(a.name == b.name && a.dtype == b.dtype && a.nbytes == b.nbytes);
    require(a.shape == b.shape || (a.shape.empty() && b.shape == std::vector<int64_t>{1}));
    require(a.nbytes == 0 || std::memcmp(a.data, b.data, a.nbytes) == 0);
  }
  return 0;
}
