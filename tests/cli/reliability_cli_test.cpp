// The CLI under hostile input and huge requests: each reproducer ends in a clear message and exit
// code 1 (never a signal, a hang or an abort), prints nothing raw from a file, and leaves no file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_run.h"
#include "format/gguf.h"
#include "model/convert.h"
#include "model/hparams_gguf.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

using testing::CliRun;
CliRun run(const std::string& args) { return testing::run_cli(args); }

// stdout and stderr apart.
struct SplitRun {
  int code;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

const std::string kModels = std::string(TESSERA_TEST_DATA) + "/../../examples/models/";

class ReliabilityCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(TESSERA_BINARY_DIR) / "test-tmp" / ("reliability-cli-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string tmp(const std::string& name) const { return (dir_ / name).string(); }
  std::string fixture(const std::string& name) const { return std::string(TESSERA_TEST_DATA) + "/authors/" + name; }
  std::vector<std::string> files() const {
    std::vector<std::string> r;
    for (auto& e : fs::directory_iterator(dir_)) r.push_back(e.path().filename().string());
    std::sort(r.begin(), r.end());
    return r;
  }
  SplitRun run_split(const std::string& args) const {
    const std::string err = tmp("stderr.txt");
    const std::string cmd = std::string(TESSERA_CLI) + " " + args + " 2>" + err;
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    SplitRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, slurp(err)};
    fs::remove(err);
    return r;
  }
  // Exit 1: the library refused a request; exit 2: the CLI refused an option value (docs/cli.md).
  void expect_failure(const std::string& args, const std::string& needle, int code = 1) const {
    CliRun r = run(args);
    EXPECT_EQ(r.code, code) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(needle), std::string::npos) << args << "\n" << r.out;
  }
  fs::path dir_;
};

TEST_F(ReliabilityCli, HugeRequestsAreErrorsWithTheNumbers) {
  const std::string int8 = kModels + "fortunes-char/model-int8.gguf";
  expect_failure("generate " + int8 + " --backend cpu-int8 --prompt 'The ' -n 4 --max-tokens 9223372036854775807",
                 "a session of 9223372036854775807 positions");
  expect_failure("generate " + int8 + " --backend cpu-int8 --prompt 'The ' -n 4 --max-tokens 1152921504606846976",
                 "a session of 1152921504606846976 positions");
  const std::string f32 = kModels + "fortunes-char/model.gguf";
  expect_failure("generate " + f32 + " --backend cpu --prompt 'The ' -n 2147483647",
                 "a session of 2147483651 positions");
  expect_failure("generate " + f32 + " --backend cpu --prompt 'The ' -n 4 --max-tokens 2147483647",
                 "a session of 2147483647 positions");
  expect_failure("generate " + int8 + " --backend cpu-int8 --prompt 'The ' -n 4 --threads 100000", "not in range", 2);
}

TEST_F(ReliabilityCli, OutOfRangeOptionsAreRejectedNotSilentlyUsed) {
  const std::string m = kModels + "fortunes-char/model.gguf --backend cpu --prompt 'The ' -n 4";
  expect_failure("generate " + m + " --max-tokens -5", "max_tokens must be >= 0");
  expect_failure("generate " + m + " --temperature -1", "temperature must be a finite value >= 0", 2);
  expect_failure("generate " + m + " --temperature nan", "temperature must be a finite value >= 0", 2);
  expect_failure("generate " + m + " --top-k -3", "top_k must be >= 0 (0: off), found -3", 2);
  expect_failure("generate " + m + " --top-p 0", "top_p must be in (0, 1]", 2);
}

TEST_F(ReliabilityCli, FifosAndDevicesAreRefusedInsteadOfBlocking) {
  const std::string fifo = tmp("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string want = "expected a regular file, found a FIFO (named pipe)";
  expect_failure("inspect " + fifo, want);
  expect_failure("logits " + fifo + " --tokens 1", want);
  expect_failure("convert " + fifo + " " + tmp("out.gguf"), want);
  expect_failure("quantize " + fifo + " " + tmp("out.gguf"), want);
  expect_failure("inspect /dev/zero", "/dev/zero: expected a regular file, found a character device");
  expect_failure("quantize " + kModels + "fortunes-char/model.gguf " + tmp("out.gguf") + " --int8 --calib " + fifo,
                 want);
  EXPECT_EQ(files(), std::vector<std::string>{"pipe"}) << "no output or temp file";
}

TEST_F(ReliabilityCli, InspectEscapesWhatTheFilePrintsAndFailsOnStderr) {
  // A loadable-looking GGUF whose strings carry terminal escapes and a NUL, and whose attention
  // method is unknown (so it is not a loadable model).
  HParams hp;
  hp.vocab_size = 10;
  hp.n_embd = 8;
  hp.n_head = 2;
  hp.n_layer = 1;
  hp.block_size = 16;
  hp.pmem_size = 4;
  hp.pmem_count = 1;
  hp.logit_scale = 1.0f;
  gguf::Writer w;
  write_hparams(w, hp, "");
  const char name[] = "\x1b[2J\x1b[Hevil\0tail";
  const char key[] = "memory-mosaics.\x1b]0;title\x07";
  w.set_string("general.name", std::string(name, sizeof name - 1));
  w.set_string(std::string(key, sizeof key - 1), "x");
  w.set_string(keys::kMethod, "\x1b[31mred");
  ASSERT_TRUE(w.write(tmp("evil.gguf")).ok());
  SplitRun r = run_split("inspect " + tmp("evil.gguf"));
  EXPECT_EQ(r.code, 1);
  for (const std::string* s : {&r.out, &r.err}) {
    EXPECT_EQ(s->find('\x1b'), std::string::npos) << *s;
    EXPECT_EQ(s->find('\x07'), std::string::npos) << *s;
    EXPECT_EQ(s->find('\0'), std::string::npos) << *s;
  }
  EXPECT_NE(r.out.find("\"\\x1b[2J\\x1b[Hevil\\x00tail\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory-mosaics.\\x1b]0;title\\x07 = \"x\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("error"), std::string::npos) << "failures go to stderr: " << r.out;
  EXPECT_NE(r.err.find("tessera inspect: error: not a loadable Memory Mosaics model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'\\x1b[31mred'"), std::string::npos) << r.err;
}

TEST_F(ReliabilityCli, InspectVerifiesTheRecordedChecksum) {
  ASSERT_EQ(run("convert " + fixture("ds-regular-epanechnikov") + "/ckpt.pt " + tmp("m.gguf")).code, 0);
  SplitRun ok = run_split("inspect --verify " + tmp("m.gguf"));
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("checksum: ok (xxh64 "), std::string::npos) << ok.out;
  // One byte of the last tensor changed.
  std::string bytes = slurp(tmp("m.gguf"));
  bytes[bytes.size() - 300] ^= 0x01;
  std::ofstream(tmp("bad.gguf"), std::ios::binary) << bytes;
  SplitRun bad = run_split("inspect --verify " + tmp("bad.gguf"));
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("content checksum mismatch"), std::string::npos) << bad.err;
  // A shipped model (written before checksums): plain inspect says so; --verify fails.
  const std::string shipped = kModels + "fortunes-char/model.gguf";
  SplitRun plain = run_split("inspect " + shipped);
  EXPECT_EQ(plain.code, 0);
  EXPECT_NE(plain.out.find("checksum: none recorded"), std::string::npos) << plain.out;
  SplitRun none = run_split("inspect --verify " + shipped);
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("no checksum recorded"), std::string::npos) << none.err;
}

TEST_F(ReliabilityCli, QuantizedBytesDependOnTheCalibrationContentNotItsPath) {
  ASSERT_EQ(run("convert " + fixture("ds-regular-epanechnikov") + "/ckpt.pt " + tmp("m.gguf")).code, 0);
  const std::string calib = "1 2 3 4 5 6 7 8 9 10 11 12\n13 14 15 16 17 18 19 20\n";
  fs::create_directories(dir_ / "a");
  std::ofstream(tmp("a/calib.txt")) << calib;
  std::ofstream(tmp("other-name.txt")) << calib;
  const std::string q = " --int8 --precision int8 --quiet --calib ";
  CliRun a = run("quantize " + tmp("m.gguf") + " " + tmp("qa.gguf") + q + tmp("a/calib.txt"));
  ASSERT_EQ(a.code, 0) << a.out;
  CliRun b = run("quantize " + tmp("m.gguf") + " " + tmp("qb.gguf") + q + tmp("other-name.txt"));
  ASSERT_EQ(b.code, 0) << b.out;
  const std::string qa = slurp(tmp("qa.gguf"));
  EXPECT_EQ(qa, slurp(tmp("qb.gguf"))) << "the same data under two paths gives the same bytes";
  EXPECT_EQ(qa.find("calib.txt"), std::string::npos);
  EXPECT_NE(qa.find("file xxh64:"), std::string::npos);
  EXPECT_NE(qa.find("2 sequences, 20 tokens"), std::string::npos);
  // Other content, other record.
  std::ofstream(tmp("other-name.txt")) << "1 2 3 4 5 6 7 8 9 10 11 13\n13 14 15 16 17 18 19 20\n";
  ASSERT_EQ(run("quantize " + tmp("m.gguf") + " " + tmp("qc.gguf") + q + tmp("other-name.txt")).code, 0);
  EXPECT_NE(qa, slurp(tmp("qc.gguf")));
  // The quantized file carries its checksum too.
  SplitRun v = run_split("inspect --verify " + tmp("qa.gguf"));
  EXPECT_EQ(v.code, 0) << v.err;
}

TEST_F(ReliabilityCli, HugeContextLengthFromAFileIsRefusedByQuantize) {
  ASSERT_EQ(run("convert " + fixture("ds-regular-epanechnikov") + "/ckpt.pt " + tmp("m.gguf")).code, 0);
  auto f = gguf::File::open(tmp("m.gguf"));
  ASSERT_TRUE(f.ok());
  auto hp = read_hparams(f.value());
  ASSERT_TRUE(hp.ok());
  HParams big = hp.value();
  big.block_size = int64_t(1) << 31;
  gguf::Writer w;
  write_hparams(w, big, "");
  for (const Tensor& t : f->tensors()) ASSERT_TRUE(w.add_tensor(t).ok());
  ASSERT_TRUE(w.write(tmp("big.gguf")).ok());
  // Default calibration sequences are capped at 256 tokens whatever the context; an explicit length of the
  // whole context is refused before anything is allocated.
  expect_failure("quantize " + tmp("big.gguf") + " " + tmp("q.gguf") + " --int8 --quiet --calib-length 2147483648",
                 "calibration on 16 sequences of 2147483648 tokens");
  EXPECT_FALSE(fs::exists(tmp("q.gguf")));
}

}  // namespace
}  // namespace tessera
