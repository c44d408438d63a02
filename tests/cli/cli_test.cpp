// The `tessera` CLI end to end: convert -> inspect -> logits/generate against the authors'
// fixtures, and bad input: clear message, non-zero exit, no partial output file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_run.h"

namespace {

namespace fs = std::filesystem;

using tessera::testing::CliRun;
CliRun run(const std::string& args) { return tessera::testing::run_cli(args); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(TESSERA_BINARY_DIR) / "test-tmp" / ("cli-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string fixture(const std::string& name) { return std::string(TESSERA_TEST_DATA) + "/authors/" + name; }
  std::string tmp(const std::string& name) { return (dir_ / name).string(); }
  // Only the named files may exist in the temp folder (no "*.tmp-*" leftovers).
  std::vector<std::string> files() {
    std::vector<std::string> r;
    for (auto& e : fs::directory_iterator(dir_)) r.push_back(e.path().filename().string());
    std::sort(r.begin(), r.end());
    return r;
  }
  fs::path dir_;
};

TEST_F(Cli, HelpListsEveryCommand) {
  CliRun r = run("--help");
  EXPECT_EQ(r.code, 0);
  for (const char* c : {"convert", "inspect", "logits", "generate", "devices"})
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
  for (const char* c : {"convert", "inspect", "logits", "generate"}) EXPECT_EQ(run(std::string(c) + " --help").code, 0);
}

TEST_F(Cli, ConvertThenLogitsMatchTheAuthors) {
  CliRun c = run("convert " + fixture("ds-regular-biweight") + "/ckpt.pt " + tmp("m.gguf"));
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("entmax15"), std::string::npos);
  std::ifstream in(fixture("ds-regular-biweight") + "/expected.json");
  nlohmann::json want = nlohmann::json::parse(in);
  std::string toks;
  for (int t : want["tokens"]) toks += std::to_string(t) + " ";
  CliRun l = run("logits " + tmp("m.gguf") + " --format json --backend cpu --tokens '" + toks + "'");
  ASSERT_EQ(l.code, 0) << l.out;
  auto got = nlohmann::json::parse(l.out.substr(l.out.find('{')));
  EXPECT_EQ(got["backend"], "cpu");
  double worst = 0;
  for (size_t t = 0; t < want["logits"].size(); ++t)
    for (size_t v = 0; v < want["logits"][t].size(); ++v)
      worst = std::max(worst, std::fabs(got["logits"][t][v].get<double>() - want["logits"][t][v].get<double>()));
  EXPECT_LE(worst, 1e-4);  // the fixtures' target; printed with 9 significant digits
}

TEST_F(Cli, InspectShowsHyperparametersAndTensors) {
  ASSERT_EQ(run("convert " + fixture("fb-eft-softmax") + "/ckpt.pt " + tmp("m.gguf")).code, 0);
  CliRun r = run("inspect " + tmp("m.gguf"));
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* s :
       {"memory-mosaics.attention.method", "2 layers, C=32, 4 heads", "blk.1.pmem_mem_k", "[1, 4, 40, 8]", "tensors,"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST_F(Cli, GenerateGreedyMatchesTheAuthors) {
  ASSERT_EQ(run("convert " + fixture("ds-regular-epanechnikov") + "/ckpt.pt " + tmp("m.gguf")).code, 0);
  std::ifstream in(fixture("ds-regular-epanechnikov") + "/expected.json");
  nlohmann::json want = nlohmann::json::parse(in);
  std::string prompt, expect = "tokens:";
  for (int t : want["prompt"]) prompt += std::to_string(t) + ",";
  for (int t : want["greedy"]) expect += " " + std::to_string(t);
  CliRun r = run("generate " + tmp("m.gguf") + " --backend cpu -n 16 --tokens " + prompt);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(expect), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("backend: cpu"), std::string::npos);
  EXPECT_NE(r.out.find("tok/s"), std::string::npos);
}

// --vulkan-profile: the authors' greedy continuation within each phone/board profile (lavapipe in CI),
// and an unknown profile named in the error.
TEST_F(Cli, GenerateWithinAVulkanProfileMatchesTheAuthors) {
  if (run("devices").out.find("profiles:") == std::string::npos) GTEST_SKIP() << "no Vulkan device";
  ASSERT_EQ(run("convert " + fixture("ds-regular-epanechnikov") + "/ckpt.pt " + tmp("m.gguf")).code, 0);
  std::ifstream in(fixture("ds-regular-epanechnikov") + "/expected.json");
  nlohmann::json want = nlohmann::json::parse(in);
  std::string prompt, expect = "tokens:";
  for (int t : want["prompt"]) prompt += std::to_string(t) + ",";
  for (int t : want["greedy"]) expect += " " + std::to_string(t);
  for (const char* profile : {"android-baseline-2022", "raspberry-pi"}) {
    CliRun r = run("generate " + tmp("m.gguf") + " --backend vulkan --vulkan-validation --vulkan-profile " + profile +
                   " -n 16 --prompt-tokens " + prompt);
    ASSERT_EQ(r.code, 0) << profile << ": " << r.out;
    EXPECT_NE(r.out.find(expect), std::string::npos) << profile << ": " << r.out;
    EXPECT_NE(r.out.find(std::string("profile ") + profile + ")"), std::string::npos) << r.out;
  }
  CliRun r = run("logits " + tmp("m.gguf") + " --tokens 1 --backend vulkan --vulkan-profile iphone");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("unknown device profile 'iphone'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("raspberry-pi"), std::string::npos) << r.out;
}

TEST_F(Cli, BadInputFailsClearlyAndLeavesNoFile) {
  CliRun r = run("convert " + tmp("missing.pt") + " " + tmp("out.gguf"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("no such file"), std::string::npos) << r.out;

  // A truncated checkpoint.
  {
    std::ifstream in(fixture("fb-regular-softmax") + "/ckpt.pt", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(tmp("cut.pt"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  r = run("convert " + tmp("cut.pt") + " " + tmp("out.gguf"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("cut.pt"), std::string::npos) << "the message names the file: " << r.out;
  EXPECT_EQ(files(), std::vector<std::string>{"cut.pt"}) << "no output or temp file may remain";

  // An unwritable destination.
  r = run("convert " + fixture("fb-regular-softmax") + "/ckpt.pt " + tmp("no/such/dir/out.gguf"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("error"), std::string::npos) << r.out;

  ASSERT_EQ(run("convert " + fixture("fb-regular-softmax") + "/ckpt.pt " + tmp("m.gguf")).code, 0);
  r = run("logits " + tmp("m.gguf") + " --backend cpu --tokens '1 2 500'");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("500 is out of the vocabulary"), std::string::npos) << r.out;
  r = run("logits " + tmp("m.gguf") + " --tokens '1 x'");
  EXPECT_EQ(r.code, 2);  // a malformed argument is a usage error
  EXPECT_NE(r.out.find("'x' is not an integer"), std::string::npos) << r.out;
  r = run("logits " + tmp("cut.pt") + " --tokens 1");
  EXPECT_EQ(r.code, 1);
  r = run("convert " + fixture("fb-regular-softmax") + "/ckpt.pt " + tmp("x.gguf") + " --method cosine");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown attention method 'cosine'"), std::string::npos) << r.out;
  r = run("generate " + tmp("m.gguf") + " --prompt hello");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("has no tokenizer"), std::string::npos) << r.out;
  r = run("logits " + tmp("m.gguf") + " --tokens 1 --backend tpu");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown backend 'tpu'"), std::string::npos) << r.out;
}

}  // namespace
