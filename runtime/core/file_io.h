// Reading files (whole or memory-mapped) and writing them atomically (temp file + rename),
// so an interrupted or failed write never leaves a half-written output behind.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera {

// "a directory", "a FIFO (named pipe)", "a character device", ... for a stat st_mode.
const char* file_kind_name(unsigned mode);

// A read-only view of a whole regular file, memory-mapped where possible. A FIFO, device, socket
// or directory is refused at open (kInvalidArgument naming what it is) instead of blocking or
// reading forever. Movable, not copyable.
class MappedFile {
 public:
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }
  // Drops the whole pages inside [p, p + n) from the process's resident memory (a later read faults
  // them back in from the file: the data stays valid). For bytes a loader has copied into another
  // layout; a no-op outside the mapping or for a non-mapped (in-memory) file.
  void release_pages(const void* p, size_t n) const;

 private:
  MappedFile() = default;
  std::string path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::vector<std::byte> fallback_;  // empty files / non-mappable sources
};

Result<std::vector<std::byte>> read_file(const std::string& path);

// Calls `write(sink)` with a sink appending to a temporary file in the same folder (an unnamed
// O_TMPFILE where the file system has them, else ".<name>.tessera-tmp.<pid>.XXXXXX"), then fsyncs
// it, renames it over `path` and fsyncs the folder. On any error the temp file is removed and
// `path` is untouched; a temp left by a killed writer (its pid gone) is removed by the next write
// of the same output.
using ByteSink = std::function<Status(std::span<const std::byte>)>;
Status write_file_atomically(const std::string& path, const std::function<Status(const ByteSink&)>& write);
Status write_file_atomically(const std::string& path, std::span<const std::byte> bytes);

}  // namespace tessera
