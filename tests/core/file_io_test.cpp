// Opening refuses what is not a regular file (a FIFO would block, a device would read forever);
// atomic writes leave no temporary file behind, and remove one a killed writer left.
#include "core/file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tessera {
namespace {

namespace fs = std::filesystem;

class FileIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(TESSERA_BINARY_DIR) / "test-tmp" / ("file-io-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> entries() const {
    std::vector<std::string> r;
    for (auto& e : fs::directory_iterator(dir_)) r.push_back(e.path().filename().string());
    std::sort(r.begin(), r.end());
    return r;
  }
  fs::path dir_;
};

TEST_F(FileIo, NonRegularFilesAreRefusedAtOpenWithoutBlocking) {
  const std::string fifo = (dir_ / "pipe").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto f = MappedFile::open(fifo);  // with no writer: would block forever without O_NONBLOCK
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(), fifo + ": expected a regular file, found a FIFO (named pipe)");

  auto z = read_file("/dev/zero");
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().message(), "/dev/zero: expected a regular file, found a character device");

  auto d = MappedFile::open(dir_.string());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("found a directory"), std::string::npos);
}

TEST_F(FileIo, AtomicWriteLeavesOnlyTheOutputAndSyncs) {
  const std::string out = (dir_ / "out.gguf").string();
  const std::string text = "hello";
  ASSERT_TRUE(write_file_atomically(out, std::as_bytes(std::span(text))).ok());
  EXPECT_EQ(entries(), std::vector<std::string>{"out.gguf"});
  EXPECT_EQ(read_file(out).value().size(), 5u);
  // A failing writer: the old output stays, nothing else appears.
  Status st = write_file_atomically(out, [](const ByteSink& sink) {
    const std::string part = "partial";
    (void)sink(std::as_bytes(std::span(part)));
    return io_error("the producer failed");
  });
  EXPECT_EQ(st.message(), "the producer failed");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.gguf"});
  EXPECT_EQ(read_file(out).value().size(), 5u);
}

TEST_F(FileIo, ATempLeftByAKilledWriterIsRemovedByTheNextWrite) {
  // A pid that has exited (a reaped child) stands for the writer killed in its write window.
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const std::string stale = ".out.gguf.tessera-tmp." + std::to_string(child) + ".Ab12Cd";
  const std::string live = ".out.gguf.tessera-tmp." + std::to_string(getpid()) + ".Xy34Zw";  // a running writer
  const std::string other = ".other.gguf.tessera-tmp." + std::to_string(child) + ".Qq56Rr";  // another output's
  for (const std::string& name : {stale, live, other}) std::ofstream(dir_ / name) << std::string(4096, 'x');
  const std::string fresh = "new";
  ASSERT_TRUE(write_file_atomically((dir_ / "out.gguf").string(), std::as_bytes(std::span(fresh))).ok());
  EXPECT_EQ(entries(), (std::vector<std::string>{other, live, "out.gguf"}));
}

}  // namespace
}  // namespace tessera
