#include "core/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tessera {

static std::string errno_text() { return std::strerror(errno); }

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return not_found(path + ": no such file");
    return io_error(path + ": cannot open: " + errno_text());
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    return io_error(path + ": cannot stat: " + errno_text());
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return invalid_argument(path + ": is a directory, expected a file");
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = size_t(st.st_size);
  if (f->size_ > 0) {
    void* p = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      return io_error(path + ": cannot map: " + errno_text());
    }
    f->data_ = static_cast<const std::byte*>(p);
    f->mapped_ = true;
  }
  ::close(fd);
  return f;
}

void MappedFile::release_pages(const void* p, size_t n) const {
  const auto* b = static_cast<const std::byte*>(p);
  if (!mapped_ || b < data_ || b + n > data_ + size_) return;
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t first = (uintptr_t(b) + page - 1) / page * page, last = (uintptr_t(b) + n) / page * page;
  if (first < last) (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (mapped_) munmap(const_cast<std::byte*>(data_), size_);
}

Result<std::vector<std::byte>> read_file(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(auto mf, MappedFile::open(path));
  auto b = mf->bytes();
  return std::vector<std::byte>(b.begin(), b.end());
}

Status write_file_atomically(const std::string& path,
                             const std::function<Status(const ByteSink&)>& write) {
  std::string tmpl = path + ".tmp-XXXXXX";
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return io_error(path + ": cannot create a temporary file beside it: " + errno_text());
  fchmod(fd, 0644);
  Status st;
  ByteSink sink = [&](std::span<const std::byte> b) -> Status {
    const std::byte* p = b.data();
    size_t left = b.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error(path + ": write failed: " + errno_text());
      }
      p += n;
      left -= size_t(n);
    }
    return Status();
  };
  st = write(sink);
  if (st.ok() && fsync(fd) != 0) st = io_error(path + ": fsync failed: " + errno_text());
  if (::close(fd) != 0 && st.ok()) st = io_error(path + ": close failed: " + errno_text());
  if (st.ok() && std::rename(tmpl.c_str(), path.c_str()) != 0)
    st = io_error(path + ": cannot rename the temporary file into place: " + errno_text());
  if (!st.ok()) ::unlink(tmpl.c_str());
  return st;
}

Status write_file_atomically(const std::string& path, std::span<const std::byte> bytes) {
  return write_file_atomically(path, [&](const ByteSink& sink) { return sink(bytes); });
}

}  // namespace tessera
