#include "model/content_hash.h"

#include <string>

#include "core/hash64.h"
#include "core/printable.h"
#include "model/hparams.h"

namespace tessera {
namespace {

void put_u64(Hash64& h, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  h.update(b, 8);
}

void put_text(Hash64& h, std::string_view s) {
  put_u64(h, s.size());
  h.update(s.data(), s.size());
}

}  // namespace

uint64_t content_hash(std::span<const Tensor> tensors) {
  Hash64 h;
  for (const Tensor& t : tensors) {
    put_text(h, t.name);
    put_text(h, dtype_name(t.dtype));
    if (t.shape.empty()) {  // a scalar is stored with the single dimension [1]: hash what is read back
      put_u64(h, 1);
      put_u64(h, 1);
    } else {
      put_u64(h, t.shape.size());
      for (int64_t d : t.shape) put_u64(h, uint64_t(d));
    }
    put_u64(h, t.nbytes);
    h.update(t.data, t.nbytes);
  }
  return h.digest();
}

Status verify_content_hash(const gguf::File& file) {
  if (!file.has(keys::kContentHash))
    return not_found(file.name() + ": no checksum recorded (key " + keys::kContentHash +
                     " absent: written before checksums, or not by tessera convert/quantize)");
  TESSERA_ASSIGN_OR_RETURN(const std::string recorded, file.get_string(keys::kContentHash));
  const std::string computed = hash64_hex(content_hash(file.tensors()));
  if (recorded != computed)
    return corrupt_file(file.name() + ": content checksum mismatch: recorded " + printable_prefix(recorded, 64) +
                        ", the tensors give " + computed + " (the file was changed after it was written)");
  return Status();
}

}  // namespace tessera
