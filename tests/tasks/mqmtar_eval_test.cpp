// Tessera float (CPU) against the float PyTorch reference on a reduced MQMTAR set: the shipped models, 40 samples
// at 1x and 2x, the same sample streams. tests/data/mqmtar/pytorch_reduced.csv was written by
//   python3 tools/reference/eval_mqmtar.py --device cpu --samples 40 --multiples 1,2
//     --csv tests/data/mqmtar/pytorch_reduced.csv examples/models/mqmtar-*/ckpt.pt  (one command line)
#include "tasks/mqmtar_eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "tasks/eval_report.h"

namespace tessera::tasks {
namespace {

const std::string kRepo = std::string(TESSERA_TEST_DATA) + "/../..";

std::vector<EvalRow> pytorch_rows() {
  std::ifstream in(std::string(TESSERA_TEST_DATA) + "/mqmtar/pytorch_reduced.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  auto rows = eval_rows_from_csv(ss.str(), "pytorch_reduced.csv");
  EXPECT_TRUE(rows.ok()) << rows.status().to_string();
  return rows.ok() ? *rows : std::vector<EvalRow>{};
}

TEST(MqmtarEval, TesseraFloatEqualsPyTorchWithinHalfAPoint) {
  const auto rows = pytorch_rows();
  ASSERT_EQ(rows.size(), 10u);  // 5 models x (1x, 2x)
  for (const auto& want : rows) {
    auto model = Model::load(kRepo + "/examples/models/" + want.model + "/model.gguf", {});
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    auto got = evaluate_mqmtar(**model, {want.length, want.samples, 1});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(got->tokens, want.tokens);
    // ±0.5 point (the project's bar): float32 runtime vs float32 PyTorch on identical samples; an argmax may flip
    // only where two logits tie within ~1e-5.
    EXPECT_LE(std::abs(got->pair_accuracy() - want.pair_accuracy), 0.5) << want.model << " L=" << want.length;
    EXPECT_LE(std::abs(got->exact_match() - want.exact_match), 2.5) << want.model << " L=" << want.length;
  }
}

TEST(MqmtarEval, RejectsModelsOfAnotherVocabulary) {
  auto text_model = Model::load(kRepo + "/examples/models/fortunes-char/model.gguf", {});
  ASSERT_TRUE(text_model.ok()) << text_model.status().to_string();
  auto r = evaluate_mqmtar(**text_model, {64, 2, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("vocabulary has 88 ids but the mqmtar task needs 263"), std::string::npos)
      << r.status().message();
  // Same vocabulary size but a text tokenizer: still not an MQMTAR model.
  ModelInfo info = (*text_model)->info();
  info.vocab_size = 263;
  EXPECT_FALSE(check_mqmtar_model(info).ok());
}

TEST(MqmtarEval, ZeroSamplesIsAnError) {
  auto model = Model::load(kRepo + "/examples/models/mqmtar-softmax/model.gguf", {});
  ASSERT_TRUE(model.ok());
  EXPECT_FALSE(evaluate_mqmtar(**model, {64, 0, 1}).ok());
}

// The shipped quantized files vs float PyTorch on the same reduced set, ±1.5 points (the project's bar for int8):
// model-int8.gguf on the integer-only runtime, model-w8.gguf (int8 weights, float activations: the file for the
// Vulkan path) on the float CPU runtime, which runs it as its dequantised model.
void expect_quantized_file_within_1_5_points(const std::string& file, BackendKind backend) {
  LoadOptions o;
  o.backend = backend;
  int checked = 0;
  for (const auto& want : pytorch_rows()) {
    auto model = Model::load(kRepo + "/examples/models/" + want.model + "/" + file, o);
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    auto got = evaluate_mqmtar(**model, {want.length, want.samples, 1});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_LE(std::abs(got->pair_accuracy() - want.pair_accuracy), 1.5)
        << want.model << "/" << file << " L=" << want.length;
    ++checked;
  }
  EXPECT_EQ(checked, 10);
}

TEST(MqmtarEval, Int8FilesWithinOneAndAHalfPointsOfPyTorch) {
  expect_quantized_file_within_1_5_points("model-int8.gguf", BackendKind::kCpuInt8);
}

TEST(MqmtarEval, WeightsOnlyFilesWithinOneAndAHalfPointsOfPyTorch) {
  expect_quantized_file_within_1_5_points("model-w8.gguf", BackendKind::kCpu);
}

}  // namespace
}  // namespace tessera::tasks
