// XXH64 (seed 0), the 64-bit xxHash: a fast, well-specified, non-cryptographic content hash.
// It detects accidental corruption and mix-ups (a renamed tensor, a changed type, other bytes); it
// is not a defence against someone who rewrites the file and its checksum together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace tessera {

// Incremental: update() over any split of the input gives the hash of the concatenation.
class Hash64 {
 public:
  Hash64();
  void update(std::span<const std::byte> bytes);
  void update(const void* data, size_t n) { update({static_cast<const std::byte*>(data), n}); }
  uint64_t digest() const;

 private:
  uint64_t acc_[4];
  unsigned char buf_[32];
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

uint64_t hash64(std::span<const std::byte> bytes);

// 16 lowercase hex digits.
std::string hash64_hex(uint64_t h);

}  // namespace tessera
