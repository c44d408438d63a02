#include "format/zip_reader.h"

#include <array>
#include <cstring>

namespace tessera {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EocdSize = 56;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;

// Little-endian field reads from a range the caller has already bounds-checked.
uint16_t u16(const std::byte* p) { return uint16_t(uint16_t(p[0]) | uint16_t(p[1]) << 8); }
uint32_t u32(const std::byte* p) { return uint32_t(u16(p)) | uint32_t(u16(p + 2)) << 16; }
uint64_t u64(const std::byte* p) { return uint64_t(u32(p)) | uint64_t(u32(p + 4)) << 32; }

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Slice-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes, so eight input
// bytes are folded per step (~5x the byte-at-a-time loop; checkpoints are gigabytes).
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;
constexpr CrcTables make_crc_tables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i)
    for (size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}
constexpr CrcTables kCrc = make_crc_tables();

// Fields of the ZIP64 extended-information extra field (id 0x0001) replace the 32-bit fields
// that hold 0xFFFFFFFF, in this order: size, compressed size, local header offset.
Status apply_zip64_extra(std::span<const std::byte> extra, ZipEntry& e, bool need_size, bool need_csize,
                         bool need_offset, const std::string& where) {
  size_t pos = 0;
  while (pos + 4 <= extra.size()) {
    const uint16_t id = u16(extra.data() + pos);
    const uint16_t len = u16(extra.data() + pos + 2);
    if (pos + 4 + len > extra.size())
      return corrupt_file(where + ": extra field overruns its area (" + std::to_string(pos + 4 + len) + " > " +
                          std::to_string(extra.size()) + " bytes)");
    if (id == 0x0001) {
      const std::byte* f = extra.data() + pos + 4;
      size_t used = 0;
      auto take = [&](uint64_t& out, const char* what) -> Status {
        if (used + 8 > len)
          return corrupt_file(where + ": ZIP64 extra field too short for " + what + " (" + std::to_string(len) +
                              " bytes)");
        out = u64(f + used);
        used += 8;
        return Status();
      };
      if (need_size) TESSERA_RETURN_IF_ERROR(take(e.size, "the size"));
      if (need_csize) TESSERA_RETURN_IF_ERROR(take(e.compressed_size, "the compressed size"));
      if (need_offset) TESSERA_RETURN_IF_ERROR(take(e.local_header_offset, "the local header offset"));
      return Status();
    }
    pos += 4 + len;
  }
  if (need_size || need_csize || need_offset)
    return corrupt_file(where + ": 32-bit size/offset is 0xffffffff but there is no ZIP64 extra field");
  return Status();
}

}  // namespace

uint32_t crc32_ieee(std::span<const std::byte> bytes, uint32_t crc) {
  crc = ~crc;
  const std::byte* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 8; n -= 8, p += 8) {
    const uint32_t lo = u32(p) ^ crc, hi = u32(p + 4);
    crc = kCrc[7][lo & 0xFF] ^ kCrc[6][(lo >> 8) & 0xFF] ^ kCrc[5][(lo >> 16) & 0xFF] ^ kCrc[4][lo >> 24] ^
          kCrc[3][hi & 0xFF] ^ kCrc[2][(hi >> 8) & 0xFF] ^ kCrc[1][(hi >> 16) & 0xFF] ^ kCrc[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) crc = kCrc[0][(crc ^ uint8_t(*p)) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

Result<ZipArchive> ZipArchive::open(std::span<const std::byte> bytes, std::string name) {
  const size_t n = bytes.size();
  const std::byte* base = bytes.data();
  if (n < kEocdSize)
    return corrupt_file(name + ": not a ZIP archive: " + std::to_string(n) + " bytes, expected at least " +
                        std::to_string(kEocdSize) + " (end of central directory record)");

  // The EOCD record ends the file, followed only by its comment (at most 65535 bytes).
  size_t eocd = SIZE_MAX;
  const size_t lowest = n - kEocdSize > 65535 ? n - kEocdSize - 65535 : 0;
  for (size_t pos = n - kEocdSize + 1; pos-- > lowest;) {
    if (u32(base + pos) == kEocdSig && pos + kEocdSize + u16(base + pos + 20) == n) {
      eocd = pos;
      break;
    }
  }
  if (eocd == SIZE_MAX)
    return corrupt_file(name + ": no ZIP end-of-central-directory record (file truncated or not a ZIP archive)");

  const std::byte* r = base + eocd;
  uint64_t disk = u16(r + 4), cd_disk = u16(r + 6);
  uint64_t count_here = u16(r + 8), count = u16(r + 10);
  uint64_t cd_size = u32(r + 12), cd_offset = u32(r + 16);

  if (eocd >= kZip64LocatorSize && u32(base + eocd - kZip64LocatorSize) == kZip64LocatorSig) {
    const std::byte* loc = base + eocd - kZip64LocatorSize;
    const uint64_t z64 = u64(loc + 8);
    if (z64 > eocd - kZip64LocatorSize || eocd - kZip64LocatorSize - z64 < kZip64EocdSize)
      return corrupt_file(
          name + ": ZIP64 end-of-central-directory offset " + std::to_string(z64) +
          " is outside the file (expected at most " +
          std::to_string(eocd >= kZip64LocatorSize + kZip64EocdSize ? eocd - kZip64LocatorSize - kZip64EocdSize : 0) +
          ")");
    const std::byte* z = base + z64;
    if (u32(z) != kZip64EocdSig)
      return corrupt_file(name + ": ZIP64 end-of-central-directory signature at offset " + std::to_string(z64) +
                          ": expected " + hex(kZip64EocdSig) + ", found " + hex(u32(z)));
    disk = u32(z + 16);
    cd_disk = u32(z + 20);
    count_here = u64(z + 24);
    count = u64(z + 32);
    cd_size = u64(z + 40);
    cd_offset = u64(z + 48);
  }
  if (disk != 0 || cd_disk != 0 || count_here != count)
    return unsupported(name + ": multi-disk ZIP archives are not supported");
  if (cd_offset > n || cd_size > n - cd_offset)
    return corrupt_file(name + ": central directory (offset " + std::to_string(cd_offset) + ", " +
                        std::to_string(cd_size) + " bytes) lies outside the file of " + std::to_string(n) + " bytes");
  if (count > cd_size / kCentralHeaderSize)
    return corrupt_file(name + ": central directory claims " + std::to_string(count) + " entries but holds only " +
                        std::to_string(cd_size) + " bytes (at least " + std::to_string(kCentralHeaderSize) +
                        " per entry)");

  ZipArchive zip;
  zip.bytes_ = bytes;
  zip.name_ = std::move(name);
  const std::string& zname = zip.name_;
  zip.entries_.reserve(size_t(count));

  size_t pos = size_t(cd_offset);
  const size_t cd_end = size_t(cd_offset + cd_size);
  for (uint64_t i = 0; i < count; ++i) {
    const std::string where = zname + ": central directory entry " + std::to_string(i);
    if (cd_end - pos < kCentralHeaderSize) return corrupt_file(where + ": runs past the end of the central directory");
    const std::byte* h = base + pos;
    if (u32(h) != kCentralHeaderSig)
      return corrupt_file(where + " at offset " + std::to_string(pos) + ": signature expected " +
                          hex(kCentralHeaderSig) + ", found " + hex(u32(h)));
    const size_t name_len = u16(h + 28), extra_len = u16(h + 30), comment_len = u16(h + 32);
    if (cd_end - pos - kCentralHeaderSize < name_len + extra_len + comment_len)
      return corrupt_file(where + ": name/extra/comment (" + std::to_string(name_len + extra_len + comment_len) +
                          " bytes) run past the end of the central directory");
    ZipEntry e;
    e.flags = u16(h + 8);
    e.method = u16(h + 10);
    e.crc32 = u32(h + 16);
    e.compressed_size = u32(h + 20);
    e.size = u32(h + 24);
    e.local_header_offset = u32(h + 42);
    e.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_len);
    const auto extra = std::span<const std::byte>(h + kCentralHeaderSize + name_len, extra_len);
    TESSERA_RETURN_IF_ERROR(apply_zip64_extra(extra, e, e.size == 0xFFFFFFFFu, e.compressed_size == 0xFFFFFFFFu,
                                              e.local_header_offset == 0xFFFFFFFFu, where + " '" + e.name + "'"));
    pos += kCentralHeaderSize + name_len + extra_len + comment_len;

    const std::string ewhere = zname + ": entry '" + e.name + "'";
    if (e.name.empty() || e.name.find('\0') != std::string::npos)
      return corrupt_file(where + ": empty name or a name holding a NUL byte");
    if (!zip.index_.emplace(e.name, zip.entries_.size()).second)
      return corrupt_file(ewhere + ": appears twice in the central directory");

    // The local header must lie before the central directory and agree on the name.
    const uint64_t lh = e.local_header_offset;
    if (lh > cd_offset || cd_offset - lh < kLocalHeaderSize)
      return corrupt_file(ewhere + ": local header offset " + std::to_string(lh) +
                          " is outside the data area (expected < " + std::to_string(cd_offset) + ")");
    const std::byte* l = base + lh;
    if (u32(l) != kLocalHeaderSig)
      return corrupt_file(ewhere + ": local header signature at offset " + std::to_string(lh) + ": expected " +
                          hex(kLocalHeaderSig) + ", found " + hex(u32(l)));
    const uint64_t lname = u16(l + 26), lextra = u16(l + 28);
    e.data_offset = lh + kLocalHeaderSize + lname + lextra;
    if (lname != name_len || e.data_offset > cd_offset ||
        std::memcmp(l + kLocalHeaderSize, e.name.data(), name_len) != 0)
      return corrupt_file(ewhere + ": local header at offset " + std::to_string(lh) +
                          " does not match the central directory (name or length differs)");
    if (e.compressed_size > cd_offset - e.data_offset)
      return corrupt_file(ewhere + ": data (offset " + std::to_string(e.data_offset) + ", " +
                          std::to_string(e.compressed_size) + " bytes) runs past the data area (ends at " +
                          std::to_string(cd_offset) + ")");
    zip.entries_.push_back(std::move(e));
  }
  return zip;
}

const ZipEntry* ZipArchive::find(std::string_view entry_name) const {
  auto it = index_.find(std::string(entry_name));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

Result<std::span<const std::byte>> ZipArchive::read(const ZipEntry& e, bool verify_crc) const {
  const std::string where = name_ + ": entry '" + e.name + "'";
  if (e.flags & 0x1) return unsupported(where + ": is encrypted");
  if (e.method != 0)
    return unsupported(where + ": compression method " + std::to_string(e.method) +
                       " is not supported (expected 0 = stored, as torch.save writes)");
  if (e.size != e.compressed_size)
    return corrupt_file(where + ": stored entry with size " + std::to_string(e.size) + " != compressed size " +
                        std::to_string(e.compressed_size));
  // open() validated data_offset + size against the file; re-check in case `e` came from elsewhere.
  if (e.data_offset > bytes_.size() || e.size > bytes_.size() - e.data_offset)
    return corrupt_file(where + ": data lies outside the file");
  auto data = bytes_.subspan(size_t(e.data_offset), size_t(e.size));
  if (verify_crc) {
    const uint32_t crc = crc32_ieee(data);
    if (crc != e.crc32)
      return corrupt_file(where + ": CRC-32 mismatch: expected " + hex(e.crc32) + ", found " + hex(crc) +
                          " (the file is corrupt)");
  }
  return data;
}

}  // namespace tessera
