// `tessera quantize` and `tessera compare` end to end on the shipped models: the same bytes whatever
// --threads, the JSON report, text calibration through the model's tokenizer, bad calibration files
// (clear error naming the file, non-zero exit, nothing written), and compare's metrics.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_run.h"

namespace {

namespace fs = std::filesystem;
using tessera::testing::run_cli;

const std::string kModels = std::string(TESSERA_TEST_DATA) + "/../../examples/models/";

class QuantizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(TESSERA_BINARY_DIR) / "test-tmp" / ("quantize-cli-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string tmp(const std::string& name) { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(tmp(name), std::ios::binary) << text;
    return tmp(name);
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path dir_;
};

TEST_F(QuantizeCli, SameBytesWhateverTheThreadCountAndAReport) {
  const std::string in = kModels + "mqmtar-softmax/model.gguf";
  auto a = run_cli("quantize " + in + " " + tmp("t1.gguf") + " --int8 --calib-task mqmtar --quiet --threads 1");
  ASSERT_EQ(a.code, 0) << a.out;
  auto b = run_cli("quantize " + in + " " + tmp("t3.gguf") +
                   " --int8 --calib-task mqmtar --quiet --threads 3 --report " + tmp("report.json"));
  ASSERT_EQ(b.code, 0) << b.out;
  const std::string one = read(tmp("t1.gguf")), three = read(tmp("t3.gguf"));
  ASSERT_GT(one.size(), 100000u);
  EXPECT_TRUE(one == three) << "--threads 1 and --threads 3 wrote different files";
  const auto r = nlohmann::json::parse(read(tmp("report.json")));
  ASSERT_FALSE(r["tensors"].empty());
  bool saw_k = false;
  for (const auto& t : r["tensors"]) {
    EXPECT_TRUE(t["precision"] == "int8" || t["precision"] == "int16") << t.dump();
    if (t["name"] == "blk.0.attn_k.weight") saw_k = true;
    if (!t["sqnr_db"].is_null()) {
      EXPECT_GT(t["sqnr_db"].get<double>(), 20.0) << t.dump();  // an 8-bit grid gives ~40 dB
    }
  }
  EXPECT_TRUE(saw_k);
  bool saw_h1 = false;
  for (const auto& s : r["activations"]) {
    EXPECT_GT(s["scale"].get<double>(), 0.0) << s.dump();
    EXPECT_EQ(s["clipped_fraction"].get<double>(), 0.0) << "min-max calibration clips nothing: " << s.dump();
    if (s["name"] == "blk.0.act.h1") {
      saw_h1 = true;
      const double want = s["clip"].get<double>() / (s["bits"] == 16 ? 32512.0 : 127.0);
      EXPECT_NEAR(s["scale"].get<double>(), want, 1e-8 * want);  // the report prints 9 significant digits
    }
  }
  EXPECT_TRUE(saw_h1);
  const auto& ag = r["agreement"];
  EXPECT_GE(ag["chosen"].get<double>(), 0.995 * ag["positions"].get<double>());  // --precision-target 99.5
}

TEST_F(QuantizeCli, PercentileCalibrationReportsWhatItClips) {
  auto q = run_cli("quantize " + kModels + "mqmtar-softmax/model.gguf " + tmp("p.gguf") +
                   " --int8 --calib-task mqmtar --calib-method percentile --percentile 99 --precision int8 --quiet"
                   " --report " +
                   tmp("report.json"));
  ASSERT_EQ(q.code, 0) << q.out;
  const auto r = nlohmann::json::parse(read(tmp("report.json")));
  for (const auto& s : r["activations"])
    if (s["name"] == "blk.0.act.h1") {  // the 99th percentile leaves about 1 % above the clip value
      EXPECT_NEAR(s["clipped_fraction"].get<double>(), 0.01, 0.002) << s.dump();
    }
}

TEST_F(QuantizeCli, TextCalibrationGoesThroughTheTokenizer) {
  const std::string in = kModels + "fortunes-char/model.gguf";
  const std::string text =
      write("calib.txt", "A fool and his money are soon parted.\nThe early bird catches the worm.\n");
  auto q = run_cli("quantize " + in + " " + tmp("q.gguf") + " --int8 --calib " + text + " --calib-length 32 --report " +
                   tmp("r.json") + " --quiet");
  ASSERT_EQ(q.code, 0) << q.out;
  const auto r = nlohmann::json::parse(read(tmp("r.json")));
  EXPECT_EQ(r["calibration_tokens"].get<int>(), 71);  // one token per character of this character-level model
}

TEST_F(QuantizeCli, BadCalibrationFilesAreRefusedAndNothingIsWritten) {
  const std::string in = kModels + "fortunes-char/model.gguf";
  struct Case {
    std::string file, content, expect;
  } cases[] = {
      {"empty.txt", "", "empty calibration file"},
      {"oov.txt", "1 2 3\n4 5 99999\n", ":2: token 99999 is outside the vocabulary"},
      {"unencodable.txt", "plain text with a \x01 control byte", "cannot tokenize"},
  };
  for (const Case& c : cases) {
    const std::string path = write(c.file, c.content);
    auto q =
        run_cli("quantize " + in + " " + tmp("out.gguf") + " --int8 --calib " + path + " --report " + tmp("r.json"));
    EXPECT_NE(q.code, 0) << c.file;
    EXPECT_NE(q.out.find(path), std::string::npos) << "the error names the file: " << q.out;
    EXPECT_NE(q.out.find(c.expect), std::string::npos) << q.out;
    EXPECT_FALSE(fs::exists(tmp("out.gguf"))) << c.file;
    EXPECT_FALSE(fs::exists(tmp("r.json"))) << c.file;
  }
  auto r = run_cli("quantize " + in + " " + tmp("out.gguf") +
                   " --int8 --calib-sequences 1 --calib-length 16 --report " + tmp("no-such-folder/r.json"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("no-such-folder/r.json: cannot write the report"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp("out.gguf")));
  auto t = run_cli("quantize " + in + " " + tmp("out.gguf") + " --int8 --threads 0");
  EXPECT_NE(t.code, 0);
  EXPECT_NE(t.out.find("--threads must be in 1..256, found 0"), std::string::npos) << t.out;
}

TEST_F(QuantizeCli, CompareAModelWithItselfIsExact) {
  const std::string m = kModels + "fortunes-char/model.gguf";
  const std::string text = write("held-out.txt", "Nothing is so firmly believed as that which we least know.\n");
  auto c = run_cli("compare " + m + " " + m + " --data " + text + " --format json --quiet");
  ASSERT_EQ(c.code, 0) << c.out;
  const auto r = nlohmann::json::parse(c.out);
  EXPECT_EQ(r["positions"].get<int>(), 59);  // one token per character
  EXPECT_EQ(r["agree"].get<int>(), 59);
  EXPECT_EQ(r["kl_mean"].get<double>(), 0.0);
  EXPECT_EQ(r["kl_p99"].get<double>(), 0.0);
  EXPECT_EQ(r["scored"].get<int>(), 58);
  EXPECT_EQ(r["base_perplexity"].get<double>(), r["quant_perplexity"].get<double>());
  EXPECT_GT(r["base_perplexity"].get<double>(), 1.0);
}

TEST_F(QuantizeCli, CompareTheShippedInt8ModelOnHeldOutTaskSamples) {
  const std::string dir = kModels + "mqmtar-softmax/";
  auto c = run_cli("compare " + dir + "model.gguf " + dir + "model-int8.gguf --format json --quiet");
  ASSERT_EQ(c.code, 0) << c.out;
  const auto r = nlohmann::json::parse(c.out);
  EXPECT_EQ(r["quant_backend"].get<std::string>().rfind("cpu-int8", 0), 0u) << r["quant_backend"];
  // Same data as tests/int8/shipped_models_int8_test.cpp (10 samples, pairs region 64, seed 7): >= 99 %.
  EXPECT_EQ(r["positions"].get<int>(), 900);
  EXPECT_GE(r["agree"].get<int>(), 891);
  EXPECT_GT(r["kl_mean"].get<double>(), 0.0);
  EXPECT_LE(r["kl_mean"].get<double>(), r["kl_p99"].get<double>() + 1e-12);
  EXPECT_LE(r["kl_p99"].get<double>(), r["kl_max"].get<double>());
  auto bad = run_cli("compare " + dir + "model.gguf " + dir + "model-int8.gguf --tokens \"1 2 99999\"");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("token 99999 is outside the vocabulary"), std::string::npos) << bad.out;
}

}  // namespace
