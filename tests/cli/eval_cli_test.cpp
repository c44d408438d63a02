// `tessera eval mqmtar`: results, CSV/SVG files, and clear errors (exit 1, message naming the problem, no file).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_run.h"

namespace {

namespace fs = std::filesystem;

using tessera::testing::CliRun;
CliRun run(const std::string& args) { return tessera::testing::run_cli(args); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(TESSERA_BINARY_DIR) / "test-tmp" / ("eval-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string model(const std::string& name) {
    return std::string(TESSERA_TEST_DATA) + "/../../examples/models/" + name + "/model.gguf";
  }
  std::string tmp(const std::string& name) { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(EvalCli, WritesTableCsvAndSvg) {
  CliRun r = run("eval mqmtar " + model("mqmtar-softmax") + " " + model("mqmtar-epanechnikov") +
                 " --backend cpu --lengths 1x,2x --samples 8 --csv " + tmp("a.csv") + " --svg " + tmp("a.svg"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("mqmtar-softmax / cpu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2x L=128"), std::string::npos);
  const std::string csv = slurp(tmp("a.csv"));
  EXPECT_EQ(csv.rfind("model,method,backend,multiple,length,tokens,samples,pair_accuracy,exact_match\n", 0), 0u);
  // The softmax model is exact on these samples (PyTorch: 100% at 1x and 2x on the first 40 samples).
  EXPECT_NE(csv.find("mqmtar-softmax,softmax,cpu,1,64,90,8,100,100\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("mqmtar-epanechnikov,epanechnikov,cpu,2,128,145,8,"), std::string::npos) << csv;
  const std::string svg = slurp(tmp("a.svg"));
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("mqmtar-epanechnikov / cpu"), std::string::npos);
}

TEST_F(EvalCli, IncludedCsvJoinsTheTable) {
  std::ofstream(tmp("py.csv")) << "model,method,backend,multiple,length,tokens,samples,pair_accuracy,exact_match\n"
                                  "mqmtar-softmax,softmax,pytorch-float32,1,64,90,300,100,100\n";
  CliRun r = run("eval mqmtar " + model("mqmtar-softmax") + " --backend cpu --lengths 1x --samples 2 --include-csv " +
                 tmp("py.csv"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("mqmtar-softmax / pytorch-float32"), std::string::npos) << r.out;
}

struct BadCase {
  const char* name;
  std::string args;
  const char* message;
  int code;  // 2: the command line is wrong; 1: a file or model is
};

TEST_F(EvalCli, BadInputFailsClearlyAndWritesNothing) {
  std::ofstream(tmp("bad.csv")) << "m,cosinemax,pytorch-float32,1,64,90,3,50,0\n";
  const std::string out = " --csv " + tmp("out.csv");
  const std::vector<BadCase> cases = {
      {"missing model", "eval mqmtar " + tmp("nope.gguf") + out, "nope.gguf", 1},
      {"unknown task", "eval sorting " + model("mqmtar-softmax") + out, "unknown task 'sorting' (available: mqmtar)",
       2},
      {"bad length", "eval mqmtar " + model("mqmtar-softmax") + " --lengths 1x,3y" + out, "--lengths item '3y'", 2},
      {"too short", "eval mqmtar " + model("mqmtar-softmax") + " --lengths 16" + out, "--lengths item '16'", 2},
      {"vocabulary", "eval mqmtar " + model("fortunes-char") + " --backend cpu" + out,
       "vocabulary has 88 ids but the mqmtar task needs 263", 1},
      {"backend", "eval mqmtar " + model("mqmtar-softmax") + " --backend cpu,tpu" + out, "unknown backend 'tpu'", 2},
      {"transform", "eval mqmtar " + model("mqmtar-softmax") + " --backend cpu --include-csv " + tmp("bad.csv") + out,
       "unknown attention transform 'cosinemax'", 1},
      {"no models", "eval mqmtar" + out, "no models given", 2},
      {"samples", "eval mqmtar " + model("mqmtar-softmax") + " --samples 0" + out, "--samples must be > 0", 2},
  };
  for (const auto& c : cases) {
    CliRun r = run(c.args);
    EXPECT_EQ(r.code, c.code) << c.name << ": " << r.out;
    EXPECT_NE(r.out.find("tessera eval: error:"), std::string::npos) << c.name << ": " << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.name << ": " << r.out;
    EXPECT_FALSE(fs::exists(tmp("out.csv"))) << c.name;
  }
  // An unknown transform name given to the converter is refused too.
  CliRun conv = run("convert " + std::string(TESSERA_TEST_DATA) + "/authors/fb-regular-softmax/ckpt.pt " +
                    tmp("x.gguf") + " --method gaussianmax");
  EXPECT_EQ(conv.code, 2) << conv.out;
  EXPECT_NE(conv.out.find("gaussianmax"), std::string::npos) << conv.out;
  EXPECT_FALSE(fs::exists(tmp("x.gguf")));
}

}  // namespace
