// Many sessions of one model on many threads, on every backend: each session's logits must be
// bit-identical to the same tokens run alone on one thread. The model is wide enough (C = 512) that
// every projection and every persistent memory takes the thread pool's parallel path (the shipped
// models are below its threshold), and the model's own thread count is > 1, so the sessions contend for
// the pool the model shares between them. Several rounds, each with fresh sessions on fresh threads.
// Bit-identity (no tolerance) because a thread count never changes a result: every row's dot product is
// computed in the same order whichever thread runs it. On Vulkan the sessions of a model take turns on
// its device queue, and the GPU computes the same bits whatever ran before.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "support/random_model.h"
#include "../vulkan/vk_required.h"
#include "quant/calibrate.h"
#include "quant/model_io.h"
#include "quant/quantize_model.h"
#include "tessera/tessera.h"

namespace tessera {
namespace {

constexpr int64_t kVocab = 256;
constexpr int kSessions = 4;      // threads decoding at once
constexpr int kModelThreads = 2;  // the model's pool
constexpr int kRounds = 3;
constexpr int kPrompt = 6;  // prefilled, then the rest decoded one by one
constexpr int kTokens = 14;

std::string temp_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/tessera-concurrency-test-XXXXXX";
    const char* made = mkdtemp(tmpl);
    return std::string(made ? made : "/tmp");
  }();
  return dir;
}

// C = 512, 8 heads, 128 memory slots: a 512×512 int8 projection is 256 KiB and one layer's persistent
// memory 128 KiB, both at or above the int8 runtime's 128 KiB parallel threshold.
const quant::FloatModel& wide_model() {
  static const quant::FloatModel m = testing::random_float_model(kVocab, 512, 8, 2, 128, 11);
  return m;
}

std::string write_model(quant::QuantMode mode, const std::string& name) {
  const std::string path = temp_dir() + "/" + name;
  quant::QuantizeOptions o;
  o.mode = mode;
  if (mode == quant::QuantMode::kInt8) o.calibration_sequences = quant::random_calibration_sequences(kVocab, 2, 16, 5);
  auto q = quant::quantize_model(wide_model(), o);
  EXPECT_TRUE(q.ok()) << q.status().to_string();
  if (!q.ok()) return "";
  Status s = quant::write_quantized_gguf(*q, {}, path);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return path;
}

// A different token sequence per session, so that a session reading another's state shows.
std::vector<int32_t> tokens_of(int session) {
  auto seq = quant::random_calibration_sequences(kVocab, 1, kTokens, 100 + uint64_t(session));
  return seq[0];
}

// Every position's logits, or the first error. Runs on the calling thread; touches no GoogleTest state.
struct Run {
  std::vector<float> logits;
  std::string error;
};
Run run_session(Model& model, const std::vector<int32_t>& tokens) {
  Run r;
  SessionOptions so;
  so.max_tokens = kTokens;
  auto s = Session::create(model, so);
  if (!s.ok()) return {{}, s.status().to_string()};
  const size_t V = size_t(kVocab);
  r.logits.resize(tokens.size() * V);
  Status st =
      (*s)->prefill(std::span<const int32_t>(tokens).first(kPrompt), std::span<float>(r.logits).first(kPrompt * V));
  if (!st.ok()) return {{}, st.to_string()};
  for (size_t t = kPrompt; t < tokens.size(); ++t) {
    st = (*s)->decode(tokens[t]);
    if (!st.ok()) return {{}, st.to_string()};
    std::copy((*s)->logits().begin(), (*s)->logits().end(), r.logits.begin() + std::ptrdiff_t(t * V));
  }
  return r;
}

void check_concurrent_sessions(BackendKind backend, const std::string& path) {
  ASSERT_FALSE(path.empty());
  LoadOptions alone;
  alone.backend = backend;
  alone.threads = 1;
  // The sanitizer builds leave Vulkan out; there the case is skipped even in CI.
  if (backend == BackendKind::kVulkan && !TESSERA_TEST_BUILT_WITH_VULKAN)
    GTEST_SKIP() << "this build has no Vulkan backend (TESSERA_ENABLE_VULKAN=OFF)";
  auto single = Model::load(path, alone);
  if (backend == BackendKind::kVulkan && !single.ok() && single.status().code() == StatusCode::kUnavailable)
    TESSERA_VK_NO_DEVICE("no usable Vulkan device: " << single.status().to_string());
  ASSERT_TRUE(single.ok()) << single.status().to_string();
  std::vector<std::vector<float>> expect;
  for (int i = 0; i < kSessions; ++i) {
    Run r = run_session(**single, tokens_of(i));
    ASSERT_TRUE(r.error.empty()) << r.error;
    expect.push_back(std::move(r.logits));
  }
  EXPECT_NE(expect[0], expect[1]);  // the sequences differ, so a mix-up cannot go unseen

  LoadOptions shared = alone;
  shared.threads = kModelThreads;
  auto model = Model::load(path, shared);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Run> got(kSessions);
    std::vector<std::thread> threads;
    for (int i = 0; i < kSessions; ++i)
      threads.emplace_back([&, i] { got[size_t(i)] = run_session(**model, tokens_of(i)); });
    for (auto& t : threads) t.join();
    for (int i = 0; i < kSessions; ++i) {
      ASSERT_TRUE(got[size_t(i)].error.empty())
          << "round " << round << " session " << i << ": " << got[size_t(i)].error;
      ASSERT_EQ(got[size_t(i)].logits, expect[size_t(i)]) << "round " << round << " session " << i;
    }
  }
}

TEST(ConcurrentSessions, FloatCpuSessionsOnManyThreadsMatchOneThreadBitForBit) {
  check_concurrent_sessions(BackendKind::kCpu, write_model(quant::QuantMode::kF16, "wide-f16.gguf"));
}

TEST(ConcurrentSessions, VulkanSessionsOnManyThreadsMatchOneThreadBitForBit) {
  check_concurrent_sessions(BackendKind::kVulkan, write_model(quant::QuantMode::kF16, "wide-f16-vk.gguf"));
}

TEST(ConcurrentSessions, Int8SessionsOnManyThreadsMatchOneThreadBitForBit) {
  check_concurrent_sessions(BackendKind::kCpuInt8, write_model(quant::QuantMode::kInt8, "wide-int8.gguf"));
}

}  // namespace
}  // namespace tessera
