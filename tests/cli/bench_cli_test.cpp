// `tessera bench` end to end: the JSON rows (one per backend × test, repetitions as asked, positive speeds, the
// random model's parameter count computed independently from its preset), and the exit codes of bad command
// lines (2) and missing files (1). Speeds are never compared with anything: they depend on the machine.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_run.h"

namespace {

using json = nlohmann::json;
using tessera::testing::CliRun;
using tessera::testing::run_cli_split;

// The tiny preset (docs/cli.md): 2 layers, C = 128, 4 heads, N = 64 slots, vocab 512, tied embedding.
int64_t tiny_parameters() {
  const int64_t L = 2, C = 128, H = 4, N = 64, V = 512, d = C / H;
  const int64_t per_layer = 2 * C + 5 * C * C + 7 * H +
                            2 * H * N * d;  // 2 LayerNorm gains, 5 matrices, scalars, M_k/M_v
  return V * C + L * per_layer + C;         // embedding, layers, final LayerNorm gain
}

TEST(BenchCli, JsonHasOneRowPerBackendAndTestWithTheAskedRepetitions) {
  CliRun r =
      run_cli_split("bench --random-model tiny -p 16 -n 4 -r 2 --backend cpu,cpu-int8 --threads 1 --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json rows = json::parse(r.out);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 4u) << r.out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const json& row : rows) {
    seen.insert({row["backend"].get<std::string>(), row["test"].get<std::string>()});
    EXPECT_EQ(row["repetitions"], 2);
    ASSERT_EQ(row["samples_ts"].size(), 2u);
    double sum = 0;
    for (const json& s : row["samples_ts"]) {
      EXPECT_GT(s.get<double>(), 0.0);
      sum += s.get<double>();
    }
    // avg_ts is the mean of the samples (printed at double precision).
    EXPECT_NEAR(row["avg_ts"].get<double>(), sum / 2, 1e-9 * sum);
    EXPECT_GE(row["stddev_ts"].get<double>(), 0.0);
    EXPECT_EQ(row["threads"], 1);
    EXPECT_EQ(row["params"].get<int64_t>(), tiny_parameters());
    EXPECT_GT(row["model_size_bytes"].get<int64_t>(), tiny_parameters() * 4);  // float32 weights + header
    if (row["test"] == "pp16") {
      EXPECT_EQ(row["n_prompt"], 16);
      EXPECT_EQ(row["n_gen"], 0);
    } else {
      EXPECT_EQ(row["n_prompt"], 0);
      EXPECT_EQ(row["n_gen"], 4);
    }
  }
  const std::set<std::pair<std::string, std::string>> expected = {{"cpu", "pp16"},
                                                                  {"cpu", "tg4"},
                                                                  {"cpu-int8", "pp16"},
                                                                  {"cpu-int8", "tg4"}};
  EXPECT_EQ(seen, expected);
}

TEST(BenchCli, MarkdownTableHasTheLlamaBenchColumns) {
  CliRun r = run_cli_split("bench --random-model tiny -p 8 -n 0 -r 1 --backend cpu");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("| model | size | params | backend | threads | test | t/s |\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("| pp8 |"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("tg"), std::string::npos) << r.out;  // -n 0: no generation test
}

TEST(BenchCli, BadCommandLinesAreUsageErrors) {
  for (const char* args : {"bench --random-model tiny -p abc", "bench --random-model tiny -p 16,-1",
                           "bench --random-model huge", "bench --random-model tiny --method cosine",
                           "bench --random-model tiny --backend tpu", "bench --random-model tiny --format xml",
                           "bench --random-model tiny -r 0", "bench", "bench m.gguf --random-model tiny"}) {
    CliRun r = run_cli_split(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.err;
    EXPECT_NE(r.err.find("error"), std::string::npos) << args << ": " << r.err;
    EXPECT_EQ(r.out, "") << args;
  }
}

// A model file: params and size agree with `tessera inspect` and the file system; the model column is general.name.
TEST(BenchCli, ModelFileRowsDescribeTheFile) {
  const std::string model = std::string(TESSERA_TEST_DATA) + "/../../examples/models/mqmtar-softmax/model.gguf";
  CliRun info = run_cli_split("inspect " + model + " --format json");
  ASSERT_EQ(info.code, 0) << info.err;
  const json inspected = json::parse(info.out);
  CliRun r = run_cli_split("bench " + model + " -p 4 -n 0 -r 1 --backend cpu --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json rows = json::parse(r.out);
  ASSERT_EQ(rows.size(), 1u) << r.out;
  EXPECT_EQ(rows[0]["params"], inspected["elements"]);
  EXPECT_EQ(rows[0]["model_size_bytes"].get<int64_t>(), int64_t(std::filesystem::file_size(model)));
  EXPECT_EQ(rows[0]["model"], inspected["metadata"].value("general.name", model));  // this file has none: its path
  EXPECT_EQ(rows[0]["test"], "pp4");
}

TEST(BenchCli, MissingModelFileIsARuntimeError) {
  CliRun r = run_cli_split("bench /nonexistent/model.gguf -p 8 -n 0 -r 1 --backend cpu");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
