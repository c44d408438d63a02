// The content checksum a converted or quantized GGUF records (keys::kContentHash) and its check.
// It covers the tensor table and the tensor data (not the other metadata): a renamed tensor, a
// changed type or shape, a flipped byte all change it. XXH64 detects accidents and mix-ups, not a
// deliberate rewrite of the data and the checksum together (docs/format.md, "Content checksum").
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"
#include "format/gguf.h"
#include "tessera/status.h"

namespace tessera {

// XXH64 (seed 0) over, for every tensor in order: u64 name length, the name, u64 dtype-name length,
// the dtype name ("F32", "I8", ...), u64 rank, each dimension as u64 (outermost first; a scalar is rank 1, [1]), u64
// byte count, the bytes. Integers little-endian.
uint64_t content_hash(std::span<const Tensor> tensors);

// ok when the recorded checksum matches the file's tensors; kNotFound "no checksum recorded" when
// the file has none; kCorruptFile naming both values when they differ.
Status verify_content_hash(const gguf::File& file);

}  // namespace tessera
