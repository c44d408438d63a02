// `tessera convert` reports its phases (reading the checkpoint, converting, writing) on stderr with the
// shared progress display; --quiet silences it, and the result on stdout and the file written do not change.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_run.h"
#include "hf_folder.h"

namespace {

namespace fs = std::filesystem;
using tessera::testing::CliRun;
using tessera::testing::run_cli_split;

class ConvertProgress : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(TESSERA_BINARY_DIR) / "test-tmp" / ("convert-progress-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string tmp(const std::string& name) { return (dir_ / name).string(); }
  static std::string bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  const std::string ckpt_ = std::string(TESSERA_TEST_DATA) + "/authors/fb-regular-softmax/ckpt.pt";
  fs::path dir_;
};

TEST_F(ConvertProgress, EveryPhaseReportsOnStderrAndQuietSilencesIt) {
  // --verbose: every phase prints its final line, even this small checkpoint's (85 KiB, 2 layers).
  const CliRun verbose = run_cli_split("convert " + ckpt_ + " " + tmp("v.gguf") + " --verbose");
  ASSERT_EQ(verbose.code, 0) << verbose.err;
  EXPECT_NE(verbose.err.find("reading      85/85 KiB  100%  elapsed"), std::string::npos) << verbose.err;
  EXPECT_NE(verbose.err.find("converting   2/2 layers  100%  elapsed"), std::string::npos) << verbose.err;
  const size_t written = verbose.err.find("100%", verbose.err.find("writing "));
  EXPECT_NE(written, std::string::npos) << verbose.err;
  EXPECT_EQ(verbose.err.find("writing ", written), std::string::npos) << "one final line per phase\n" << verbose.err;
  EXPECT_LT(verbose.err.find("reading "), verbose.err.find("converting "));  // in phase order

  const CliRun quiet = run_cli_split("convert " + ckpt_ + " " + tmp("q.gguf") + " --verbose --quiet");
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("reading"), std::string::npos) << quiet.err;
  EXPECT_EQ(quiet.err.find("converting"), std::string::npos) << quiet.err;
  EXPECT_EQ(quiet.err.find("writing"), std::string::npos) << quiet.err;

  // By default a phase under a second prints nothing.
  const CliRun plain = run_cli_split("convert " + ckpt_ + " " + tmp("p.gguf"));
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_EQ(plain.err.find("reading"), std::string::npos) << plain.err;

  // The result line differs only by the output path; the files are the same bytes.
  auto result = [&](const CliRun& r, const std::string& file) {
    std::string out = r.out;
    const size_t at = out.find(tmp(file));
    EXPECT_NE(at, std::string::npos) << out;
    return at == std::string::npos ? out : out.replace(at, tmp(file).size(), "OUT");
  };
  EXPECT_EQ(result(verbose, "v.gguf"), result(quiet, "q.gguf"));
  EXPECT_EQ(result(verbose, "v.gguf"), result(plain, "p.gguf"));
  EXPECT_EQ(result(plain, "p.gguf").rfind("wrote OUT: ", 0), 0u) << plain.out;
  const std::string v = bytes(tmp("v.gguf"));
  EXPECT_FALSE(v.empty());
  EXPECT_EQ(v, bytes(tmp("q.gguf")));
  EXPECT_EQ(v, bytes(tmp("p.gguf")));
}

// A safetensors folder is memory-mapped; its reading phase reads every page of every shard in (the bytes
// reported are the shards' sizes together), so the converting phase that follows only converts.
TEST_F(ConvertProgress, SafetensorsShardsAreReadInTheReadingPhase) {
  auto ckpt = tessera::read_torch_checkpoint(ckpt_);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().to_string();
  tessera::testing::HfFolderOptions o;
  o.shards = 2;
  fs::create_directories(tmp("hf"));
  ASSERT_FALSE(tessera::testing::write_hf_folder(*ckpt, tmp("hf"), o).empty());
  const uintmax_t bytes = fs::file_size(tmp("hf/model-00001-of-00002.safetensors")) +
                          fs::file_size(tmp("hf/model-00002-of-00002.safetensors"));
  ASSERT_LT(bytes, uintmax_t(1) << 20);  // so the phase counts KiB
  const std::string kib = std::to_string(bytes >> 10);

  const CliRun r = run_cli_split("convert " + tmp("hf") + " " + tmp("hf.gguf") + " --verbose");
  ASSERT_EQ(r.code, 0) << r.err;
  const size_t reading = r.err.find("reading      " + kib + "/" + kib + " KiB  100%  elapsed");
  const size_t converting = r.err.find("converting   2/2 layers  100%  elapsed");
  EXPECT_NE(reading, std::string::npos) << bytes << " bytes in the shards\n" << r.err;
  EXPECT_NE(converting, std::string::npos) << r.err;
  EXPECT_LT(reading, converting) << r.err;
}

}  // namespace
