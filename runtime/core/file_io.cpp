#include "core/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tessera {

static std::string errno_text() { return std::strerror(errno); }

const char* file_kind_name(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "a special file";
}

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever (for a regular file
  // the flag changes nothing); what is not a regular file is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return not_found(path + ": no such file");
    return io_error(path + ": cannot open: " + errno_text());
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    return io_error(path + ": cannot stat: " + errno_text());
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument(path + ": expected a regular file, found " + file_kind_name(st.st_mode));
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

namespace {

struct PathParts {
  std::string dir, base;  // dir is "." for a bare file name
};

PathParts split_path(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string temp_prefix(const std::string& base) { return "." + base + ".tessera-tmp."; }

// Removes "<dir>/.<base>.tessera-tmp.<pid>.*" left by a writer that no longer runs (killed during
// its write window). A live pid's temp (another process writing the same output) is left alone.
void remove_stale_temps(const PathParts& p) {
  DIR* d = opendir(p.dir.c_str());
  if (!d) return;
  const std::string prefix = temp_prefix(p.base);
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || !end || *end != '.') continue;
    if (kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    (void)unlinkat(dirfd(d), name.c_str(), 0);
  }
  closedir(d);
}

Status fsync_directory(const std::string& dir, const std::string& path) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(path + ": cannot open its folder to sync the rename: " + errno_text());
  const int rc = fsync(fd);
  ::close(fd);
  if (rc != 0 && errno != EINVAL) return io_error(path + ": fsync of its folder failed: " + errno_text());
  return Status();
}

}  // namespace

// The data is written to an unnamed O_TMPFILE inode where the file system has them (a kill in the
// write window leaves nothing behind), else to ".<name>.tessera-tmp.<pid>.XXXXXX" beside the output,
// which the next write of that output removes once its pid is gone. Either way: fsync the file,
// give it the temp name, rename it over `path`, fsync the folder so the rename itself is durable.
Status write_file_atomically(const std::string& path, const std::function<Status(const ByteSink&)>& write) {
  const PathParts parts = split_path(path);
  if (parts.base.empty()) return invalid_argument(path + ": expected a file name, found a folder path");
  remove_stale_temps(parts);
  std::string tmp = parts.dir + "/" + temp_prefix(parts.base) + std::to_string(getpid()) + ".XXXXXX";
  bool anonymous = false;
#ifdef O_TMPFILE
  int fd = ::open(parts.dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  anonymous = fd >= 0;
#else
  int fd = -1;
#endif
  if (!anonymous) {
    fd = mkstemp(tmp.data());
    if (fd < 0) return io_error(path + ": cannot create a temporary file beside it: " + errno_text());
    fchmod(fd, 0644);
  }
  bool named = !anonymous;
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
  if (st.ok() && anonymous) {
    // linkat cannot replace `path`: link to a fresh temp name (mkstemp's, then freed), then rename.
    int probe = mkstemp(tmp.data());
    if (probe < 0) {
      st = io_error(path + ": cannot create a temporary name beside it: " + errno_text());
    } else {
      ::close(probe);
      ::unlink(tmp.c_str());
      const std::string self = "/proc/self/fd/" + std::to_string(fd);
      if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) != 0)
        st = io_error(path + ": cannot give the written file a name: " + errno_text());
      else named = true;
    }
  }
  if (::close(fd) != 0 && st.ok()) st = io_error(path + ": close failed: " + errno_text());
  if (st.ok() && std::rename(tmp.c_str(), path.c_str()) != 0)
    st = io_error(path + ": cannot rename the temporary file into place: " + errno_text());
  if (!st.ok()) {
    if (named) ::unlink(tmp.c_str());
    return st;
  }
  return fsync_directory(parts.dir, path);
}

Status write_file_atomically(const std::string& path, std::span<const std::byte> bytes) {
  return write_file_atomically(path, [&](const ByteSink& sink) { return sink(bytes); });
}

}  // namespace tessera
