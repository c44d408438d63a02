// `tessera pack`: an int8 GGUF becomes a blob tessera_micro accepts with the model's dimensions; a float
// model, a missing file or an unwritable output is a clear error, exit 1, and no file left behind.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "cli_run.h"
#include "micro/tessera_micro.h"

namespace tessera {
namespace {

using testing::run_cli;
namespace fs = std::filesystem;

const std::string kModels = std::string(TESSERA_TEST_DATA) + "/../../examples/models/";

fs::path temp_path(const std::string& name) { return fs::temp_directory_path() / ("tessera_pack_test_" + name); }

TEST(PackCli, WritesABlobTheMicroRuntimeAccepts) {
  const fs::path out = temp_path("ok.tmb");
  fs::remove(out);
  auto r = run_cli("pack " + kModels + "mqmtar-relumax/model-int8.gguf " + out.string() + " --context 32");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("arena"), std::string::npos) << r.out;
  std::ifstream f(out, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 128u);
  EXPECT_EQ(std::memcmp(bytes.data(), "TSMB", 4), 0);
  void* blob = std::aligned_alloc(64, (bytes.size() + 63) & ~size_t(63));
  std::memcpy(blob, bytes.data(), bytes.size());
  tm_model_info info{};
  EXPECT_EQ(tm_check_blob(blob, bytes.size(), &info), TM_OK);
  EXPECT_EQ(info.vocab_size, 263u);
  EXPECT_EQ(info.n_layer, 2u);
  EXPECT_EQ(info.pmem_size, 256u);
  std::free(blob);
  fs::remove(out);
}

TEST(PackCli, FloatModelMissingFileAndBadOutputAreErrors) {
  const fs::path out = temp_path("bad.tmb");
  fs::remove(out);
  auto r = run_cli("pack " + kModels + "mqmtar-relumax/model.gguf " + out.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("is not an int8 model"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
  r = run_cli("pack /nonexistent/model-int8.gguf " + out.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent/model-int8.gguf"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
  r = run_cli("pack " + kModels + "mqmtar-relumax/model-int8.gguf /nonexistent-dir/out.tmb");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent-dir/out.tmb"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tessera
