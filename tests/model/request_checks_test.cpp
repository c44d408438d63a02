// Requests the Session and the loader check before anything is allocated or run: capacity against
// the backend and the machine (overflow-checked), token range, logits size, thread count, sampling
// options; the tensor table of a file against the architecture; the recorded content checksum.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>

#include "core/file_io.h"
#include "core/hash64.h"
#include "core/resources.h"
#include "format/gguf.h"
#include "model/content_hash.h"
#include "model/convert.h"
#include "model/hparams_gguf.h"
#include "tessera/tessera.h"
#include "test_util.h"

namespace tessera {
namespace {

const std::string kInt8Model = std::string(TESSERA_TEST_DATA) + "/../../examples/models/fortunes-char/model-int8.gguf";

void expect_status(const Status& st, StatusCode code, const std::string& needle) {
  EXPECT_EQ(st.code(), code) << st.to_string();
  EXPECT_NE(st.message().find(needle), std::string::npos) << "'" << needle << "' not in: " << st.message();
}

class RequestChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = read_torch_checkpoint(testing::data_dir() + "/authors/ds-regular-epanechnikov/ckpt.pt");
    ASSERT_TRUE(c.ok());
    model_ = convert_checkpoint(c.value(), {}).value();
    path_ = dir_.file("m.gguf");
    ASSERT_TRUE(write_model_gguf(model_, path_).ok());
  }
  // Writes the converted model with `edit` applied (no checksum key unless `edit` adds one).
  std::string write_edited(const std::function<void(std::vector<Tensor>&, HParams&)>& edit) {
    std::vector<Tensor> tensors = model_.tensors;
    HParams hp = model_.hparams;
    edit(tensors, hp);
    gguf::Writer w;
    write_hparams(w, hp, "");
    for (const Tensor& t : tensors) EXPECT_TRUE(w.add_tensor(t).ok());
    const std::string p = dir_.file("edited-" + std::to_string(edits_++) + ".gguf");
    EXPECT_TRUE(w.write(p).ok());
    return p;
  }
  testing::TempDir dir_{"request-checks"};
  ConvertedModel model_;
  std::string path_;
  int edits_ = 0;
};

TEST_F(RequestChecks, HugeCapacityIsResourceExhaustedWithTheNumbersOnEveryCpuBackend) {
  LoadOptions f32;
  LoadOptions i8;
  i8.backend = BackendKind::kCpuInt8;
  for (auto [path, options] : {std::pair{path_, f32}, std::pair{kInt8Model, i8}}) {
    auto m = Model::load(path, options);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    for (int64_t cap : {std::numeric_limits<int64_t>::max(), int64_t(1) << 60, int64_t(2147483647)}) {
      SessionOptions so;
      so.max_tokens = cap;
      auto s = Session::create(**m, so);
      ASSERT_FALSE(s.ok()) << cap;
      expect_status(s.status(), StatusCode::kResourceExhausted, "a session of " + std::to_string(cap) + " positions");
      EXPECT_NE(s.status().message().find("bytes"), std::string::npos) << s.status().message();
    }
    // The same request through session_arena_bytes is the same error, not a wrapped size.
    if (options.backend == BackendKind::kCpuInt8) {
      auto bytes = (*m)->session_arena_bytes(std::numeric_limits<int64_t>::max());
      ASSERT_FALSE(bytes.ok());
      EXPECT_EQ(bytes.status().code(), StatusCode::kResourceExhausted);
    }
  }
}

TEST_F(RequestChecks, Int8ArenaBoundCoversTheLayoutAtEveryCapacity) {
  // The overflow-checked bound the Session checks must never be below what int8_state_bind lays out;
  // a session of each capacity runs to its last position (ASan would see a write past the arena).
  LoadOptions o;
  o.backend = BackendKind::kCpuInt8;
  auto m = Model::load(kInt8Model, o);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  for (int64_t cap : {1, 2, 3, 17, 64, 65, 255}) {
    auto need = (*m)->session_arena_bytes(cap);
    ASSERT_TRUE(need.ok());
    std::vector<std::byte> arena(*need);
    SessionOptions so;
    so.max_tokens = cap;
    so.arena = arena;
    auto s = Session::create(**m, so);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    std::vector<int32_t> toks(static_cast<size_t>(cap));
    for (int64_t i = 0; i < cap; ++i) toks[size_t(i)] = int32_t((i * 7) % 88);
    ASSERT_TRUE((*s)->prefill(toks).ok());
    expect_status((*s)->decode(1), StatusCode::kOutOfRange, "capacity of " + std::to_string(cap));
    so.arena = std::span<std::byte>(arena).first(arena.size() - 1);
    expect_status(Session::create(**m, so).status(), StatusCode::kInvalidArgument,
                  std::to_string(*need) + " needed for " + std::to_string(cap) + " positions");
  }
}

TEST_F(RequestChecks, ContextLengthFromAFileIsCheckedWhenItBecomesTheCapacity) {
  const std::string p = write_edited([](auto&, HParams& hp) { hp.block_size = int64_t(1) << 31; });
  auto m = Model::load(p, {});
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto s = Session::create(**m, {});  // max_tokens 0: the model's context
  ASSERT_FALSE(s.ok());
  expect_status(s.status(), StatusCode::kResourceExhausted,
                "a session of 2147483648 positions (the model's context_length)");
  SessionOptions small;
  small.max_tokens = 8;
  EXPECT_TRUE(Session::create(**m, small).ok()) << "an explicit capacity still works";
}

TEST_F(RequestChecks, NegativeCapacityAndThreadCountsAreInvalidInTheLibrary) {
  auto m = Model::load(path_, {});
  ASSERT_TRUE(m.ok());
  SessionOptions so;
  so.max_tokens = -5;
  expect_status(Session::create(**m, so).status(), StatusCode::kInvalidArgument, "max_tokens must be >= 0");
  for (BackendKind kind : {BackendKind::kCpu, BackendKind::kCpuInt8}) {
    LoadOptions o;
    o.backend = kind;
    o.threads = 100000;
    expect_status(Model::load(kind == BackendKind::kCpu ? path_ : kInt8Model, o).status(), StatusCode::kInvalidArgument,
                  "threads must be in 1..256, found 100000");
  }
}

TEST_F(RequestChecks, TheSessionOwnsTheRequestChecksWithOneMessageForEveryBackend) {
  LoadOptions f32;
  LoadOptions i8;
  i8.backend = BackendKind::kCpuInt8;
  LoadOptions vk;
  vk.backend = BackendKind::kVulkan;
  for (auto [path, options, vocab] :
       {std::tuple{path_, f32, 101}, std::tuple{kInt8Model, i8, 88}, std::tuple{path_, vk, 101}}) {
    auto m = Model::load(path, options);
    if (options.backend == BackendKind::kVulkan && m.status().code() == StatusCode::kUnavailable) {
      std::cout << "no Vulkan device: the vulkan case is not run (" << m.status().message() << ")\n";
      continue;
    }
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    SessionOptions so;
    so.max_tokens = 3;
    auto s = Session::create(**m, so);
    ASSERT_TRUE(s.ok());
    expect_status((*s)->prefill({}), StatusCode::kInvalidArgument, "prefill: no tokens");
    expect_status((*s)->prefill(std::vector<int32_t>{1, 2, 3, 4}), StatusCode::kOutOfRange,
                  "prefill: context full: position 0 + 4 tokens exceeds the session capacity of 3");
    expect_status((*s)->decode(vocab), StatusCode::kInvalidArgument,
                  "decode: token 0 = " + std::to_string(vocab) + " is out of the vocabulary");
    std::vector<float> wrong(size_t(vocab) * 2 - 1);
    expect_status((*s)->prefill(std::vector<int32_t>{1, 2}, wrong), StatusCode::kInvalidArgument,
                  "all_logits holds " + std::to_string(wrong.size()) + " floats, expected 2 x " +
                      std::to_string(vocab));
    EXPECT_EQ((*s)->position(), 0) << "rejected calls must not advance the sequence";
    ASSERT_TRUE((*s)->prefill(std::vector<int32_t>{1, 2, 3}).ok());
    expect_status((*s)->decode(1), StatusCode::kOutOfRange,
                  "decode: context full: position 3 + 1 tokens exceeds the session capacity of 3");
  }
}

TEST(SamplingOptions, OutOfRangeValuesAreRejectedByTheLibrary) {
  struct Case {
    SamplingParams p;
    const char* needle;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::vector<Case> bad = {{{-1.0f, 1.0f, 0, 0}, "temperature"},
                           {{nan, 1.0f, 0, 0}, "temperature"},
                           {{inf, 1.0f, 0, 0}, "temperature"},
                           {{1.0f, 0.0f, 0, 0}, "top_p must be in (0, 1]"},
                           {{1.0f, 1.5f, 0, 0}, "top_p"},
                           {{1.0f, nan, 0, 0}, "top_p"},
                           {{1.0f, 1.0f, -3, 0}, "top_k must be >= 0 (0: off), found -3"}};
  for (const Case& c : bad) {
    auto s = Sampler::create(c.p);
    ASSERT_FALSE(s.ok()) << c.needle;
    expect_status(s.status(), StatusCode::kInvalidArgument, c.needle);
    Sampler unchecked(c.p);
    EXPECT_EQ(unchecked.sample(std::vector<float>{0.0f, 1.0f}), -1) << "no garbage tokens from invalid options";
  }
  SamplingParams ok;
  ok.temperature = 0.7f;
  ok.top_p = 1.0f;
  ok.top_k = 5;
  ASSERT_TRUE(Sampler::create(ok).ok());
  EXPECT_EQ(Sampler::create({}).value().sample(std::vector<float>{0.0f, 2.0f, 1.0f}), 1);
}

TEST_F(RequestChecks, TensorsMustBeWhatTheArchitectureSays) {
  // A renamed norm weight: the expected tensor is missing (and the new name is unknown).
  std::string p = write_edited([](std::vector<Tensor>& t, HParams&) {
    for (Tensor& x : t)
      if (x.name == "output_norm.weight") x.name = "output_norm.weight_renamed";
  });
  expect_status(Model::load(p, {}).status(), StatusCode::kNotFound, "'output_norm.weight' is missing");
  // An extra tensor nobody reads.
  p = write_edited([](std::vector<Tensor>& t, HParams&) {
    std::vector<float> v(3, 0.0f);
    t.push_back(make_f32_tensor("blk.0.attn_extra", {3}, v));
  });
  expect_status(Model::load(p, {}).status(), StatusCode::kInvalidArgument, "unknown tensor 'blk.0.attn_extra'");
  // A per-head vector stored as F16 instead of F32.
  p = write_edited([](std::vector<Tensor>& t, HParams&) {
    for (Tensor& x : t)
      if (x.name == "blk.0.attn_value_mix") {
        std::vector<uint16_t> h(size_t(x.numel()), 0x3c00);  // 1.0 in F16
        std::vector<std::byte> b(h.size() * 2);
        std::memcpy(b.data(), h.data(), b.size());
        x = make_owned_tensor(x.name, DType::kF16, x.shape, std::move(b));
      }
  });
  expect_status(Model::load(p, {}).status(), StatusCode::kInvalidArgument,
                "tensor 'blk.0.attn_value_mix': expected type F32, found F16");
  // A quantized-only type in a float file.
  p = write_edited([](std::vector<Tensor>& t, HParams&) {
    for (Tensor& x : t)
      if (x.name == "blk.0.attn_k.weight") {
        std::vector<std::byte> b(size_t(x.numel()), std::byte{1});
        x = make_owned_tensor(x.name, DType::kI8, x.shape, std::move(b));
      }
  });
  expect_status(Model::load(p, {}).status(), StatusCode::kInvalidArgument,
                "tensor 'blk.0.attn_k.weight': expected type F32 or F16, found I8");
}

TEST_F(RequestChecks, ContentChecksumIsRecordedAndVerifiedOnRequest) {
  auto f = gguf::File::open(path_);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->has(keys::kContentHash)) << "convert records the checksum";
  EXPECT_EQ(f->get_string(keys::kContentHash).value(), hash64_hex(content_hash(model_.tensors)));
  EXPECT_TRUE(verify_content_hash(f.value()).ok());
  LoadOptions verify;
  verify.verify_checksum = true;
  EXPECT_TRUE(Model::load(path_, verify).ok());

  // One flipped bit in the last tensor's data: still loads unverified, fails verified.
  auto bytes = read_file(path_).value();
  const Tensor& last = f->tensors().back();
  const size_t at = size_t(last.data - f->tensors().front().data) + size_t(f->data_section_offset());
  bytes[at] ^= std::byte{1};
  const std::string flipped = dir_.file("flipped.gguf");
  ASSERT_TRUE(write_file_atomically(flipped, bytes).ok());
  EXPECT_TRUE(Model::load(flipped, {}).ok());
  expect_status(Model::load(flipped, verify).status(), StatusCode::kCorruptFile, "content checksum mismatch");

  // A file without the key (the shipped models before checksums): loads; verification says so.
  const std::string none = write_edited([](auto&, auto&) {});
  EXPECT_TRUE(Model::load(none, {}).ok());
  expect_status(Model::load(none, verify).status(), StatusCode::kNotFound, "no checksum recorded");
}

}  // namespace
}  // namespace tessera
