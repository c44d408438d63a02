// A validating reader for the ZIP archives torch.save writes: stored (uncompressed) entries,
// the central directory as the index, ZIP64 sizes and offsets. Every offset and size is checked
// against the file before use, so a truncated or hostile archive gives an error, never a read
// outside the buffer. Entries are views into the caller's bytes (nothing is copied).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tessera/status.h"

namespace tessera {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 = stored; anything else is refused by read()
  uint16_t flags = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;  // uncompressed
  uint64_t local_header_offset = 0;
  uint64_t data_offset = 0;  // first byte of the entry's data (validated to lie in the file)
};

class ZipArchive {
 public:
  // Parses the end-of-central-directory record(s) and the central directory, and checks each
  // entry's local header. `name` is used in error messages only.
  static Result<ZipArchive> open(std::span<const std::byte> bytes, std::string name);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  // nullptr when there is no entry of that exact name.
  const ZipEntry* find(std::string_view entry_name) const;
  // The entry's bytes; refuses compressed/encrypted entries; checks the CRC-32 if `verify_crc`.
  Result<std::span<const std::byte>> read(const ZipEntry& entry, bool verify_crc = true) const;
  const std::string& name() const { return name_; }

 private:
  std::span<const std::byte> bytes_;
  std::string name_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in entries_
};

// CRC-32 (IEEE 802.3, the one ZIP uses).
uint32_t crc32_ieee(std::span<const std::byte> bytes, uint32_t crc = 0);

}  // namespace tessera
