// Public API behaviour: loading from memory, model-level validation of GGUF files, session limits,
// token range checks, sampling.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/file_io.h"
#include "format/gguf.h"
#include "model/convert.h"
#include "model/hparams_gguf.h"
#include "tessera/tessera.h"
#include "tessera/tokenizer.h"
#include "test_util.h"

namespace tessera {
namespace {

class Api : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = read_torch_checkpoint(testing::data_dir() + "/authors/ds-regular-epanechnikov/ckpt.pt");
    ASSERT_TRUE(c.ok());
    model_ = convert_checkpoint(c.value(), {}).value();
    path_ = dir_.file("m.gguf");
    ASSERT_TRUE(write_model_gguf(model_, path_).ok());
  }
  // Writes the model with `edit` applied to its tensor list and metadata; returns the load status.
  Status load_edited(const std::function<void(std::vector<Tensor>&, HParams&)>& edit,
                     const std::string& arch = "memory-mosaics") {
    std::vector<Tensor> tensors = model_.tensors;
    HParams hp = model_.hparams;
    edit(tensors, hp);
    gguf::Writer w;
    write_hparams(w, hp, "");
    if (arch != "memory-mosaics") w.set_string("general.architecture", arch);
    for (const Tensor& t : tensors) EXPECT_TRUE(w.add_tensor(t).ok());
    const std::string p = dir_.file("edited.gguf");
    EXPECT_TRUE(w.write(p).ok());
    return Model::load(p, {}).status();
  }
  testing::TempDir dir_{"api"};
  ConvertedModel model_;
  std::string path_;
};

TEST_F(Api, LoadFromMemoryEqualsLoadFromFile) {
  auto bytes = read_file(path_);
  ASSERT_TRUE(bytes.ok());
  auto a = Model::load(path_, {});
  auto b = Model::load_from_memory(bytes.value(), {});
  ASSERT_TRUE(a.ok() && b.ok()) << b.status().to_string();
  auto sa = Session::create(**a, {});
  auto sb = Session::create(**b, {});
  const std::vector<int32_t> toks{5, 9, 11, 5, 9};
  ASSERT_TRUE((*sa)->prefill(toks).ok());
  ASSERT_TRUE((*sb)->prefill(toks).ok());
  auto la = (*sa)->logits(), lb = (*sb)->logits();
  EXPECT_TRUE(std::equal(la.begin(), la.end(), lb.begin()));
  EXPECT_EQ((*a)->info().backend_name, "cpu");
  EXPECT_EQ((*a)->info().method.name(), "sparsemax");
}

TEST_F(Api, OutOfVocabularyTokensAreRejected) {
  auto m = Model::load(path_, {});
  auto s = Session::create(**m, {});
  Status st = (*s)->prefill(std::vector<int32_t>{1, 2, 101});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("token 2 = 101 is out of the vocabulary [0, 101)"), std::string::npos) << st.message();
  EXPECT_FALSE((*s)->decode(-1).ok());
  EXPECT_EQ((*s)->position(), 0) << "a rejected call must not advance the sequence";
}

TEST_F(Api, ContextFullIsAnErrorNotACrash) {
  auto m = Model::load(path_, {});
  SessionOptions so;
  so.max_tokens = 4;
  auto s = Session::create(**m, so);
  ASSERT_TRUE((*s)->prefill(std::vector<int32_t>{1, 2, 3, 4}).ok());
  Status st = (*s)->decode(5);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange);
  EXPECT_NE(st.message().find("capacity of 4"), std::string::npos);
  (*s)->reset();
  EXPECT_TRUE((*s)->prefill(std::vector<int32_t>{1, 2}).ok());
}

TEST_F(Api, ResetRestartsTheSequenceExactly) {
  auto m = Model::load(path_, {});
  auto s = Session::create(**m, {});
  const std::vector<int32_t> toks{7, 8, 9, 10};
  ASSERT_TRUE((*s)->prefill(toks).ok());
  std::vector<float> first((*s)->logits().begin(), (*s)->logits().end());
  (*s)->reset();
  ASSERT_TRUE((*s)->prefill(toks).ok());
  EXPECT_TRUE(std::equal(first.begin(), first.end(), (*s)->logits().begin()));
}

TEST_F(Api, GgufWithWrongArchitectureOrTensorsIsRejectedByName) {
  Status st = load_edited([](auto&, auto&) {}, "llama");
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("expected \"memory-mosaics\", found \"llama\""), std::string::npos) << st.message();

  st = load_edited([](std::vector<Tensor>& t, HParams&) {
    std::erase_if(t, [](const Tensor& x) { return x.name == "blk.1.pmem_mem_v"; });
  });
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("'blk.1.pmem_mem_v' is missing"), std::string::npos) << st.message();

  st = load_edited([](std::vector<Tensor>&, HParams& hp) { hp.n_head = 8; });
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("expected shape [8]"), std::string::npos) << st.message();

  st = load_edited([](std::vector<Tensor>& t, HParams&) {
    for (Tensor& x : t)
      if (x.name == "blk.0.attn_key_decay") {
        std::vector<float> v(4, 1.5f);
        x = make_f32_tensor(x.name, {4}, v);
      }
  });
  EXPECT_NE(st.message().find("expected decays in [0, 1)"), std::string::npos) << st.message();

  st = load_edited([](std::vector<Tensor>&, HParams& hp) { hp.mask_offset = 3; });
  EXPECT_NE(st.message().find("mask_offset"), std::string::npos) << st.message();
}

TEST_F(Api, UnavailableBackendsSayWhy) {
  LoadOptions o;
  o.backend = BackendKind::kAuto;
  auto m = Model::load(path_, o);
  ASSERT_TRUE(m.ok()) << "auto always finds a backend";
  if ((*m)->info().backend_name == "cpu") {
    EXPECT_FALSE((*m)->info().fallback_reason.empty());
  }
  EXPECT_FALSE(parse_backend_kind("tpu").ok());
  o.threads = 0;
  EXPECT_EQ(Model::load(path_, o).status().code(), StatusCode::kInvalidArgument);
}

TEST(Sampler, GreedyTakesTheLowestIndexOfTheMaximum) {
  Sampler s({});
  std::vector<float> l{0.1f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.sample(l), 1);
}

TEST(Sampler, SeededSamplingIsReproducibleAndFollowsTheDistribution) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 42;
  std::vector<float> l{std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  Sampler a(p), b(p);
  std::map<int, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const int x = a.sample(l);
    ASSERT_EQ(x, b.sample(l));
    counts[x]++;
  }
  // Binomial standard deviation at n = 20000 is ≤ 0.0036: 5σ bounds.
  EXPECT_NEAR(counts[0] / double(n), 0.5, 0.018);
  EXPECT_NEAR(counts[1] / double(n), 0.3, 0.018);
  EXPECT_NEAR(counts[2] / double(n), 0.2, 0.018);
}

TEST(Sampler, TopPAndTopKRestrictTheSupport) {
  std::vector<float> l{std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.75f;  // keeps {0, 1}: 0.5 < 0.75 <= 0.8
  Sampler s(p);
  for (int i = 0; i < 2000; ++i) EXPECT_LE(s.sample(l), 1);
  p.top_p = 1.0f;
  p.top_k = 1;
  Sampler k(p);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(k.sample(l), 0);
}

TEST(Tokenizer, GreedyLongestMatchAndClearErrors) {
  auto t = Tokenizer::from_tokens({"", "a", "b", "ab", "c", " "});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->encode("abc ab").value(), (std::vector<int32_t>{3, 4, 5, 3}));
  auto bad = t->encode("abz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("byte 2 ('z')"), std::string::npos);
  EXPECT_EQ(t->decode(3), "ab");
  EXPECT_EQ(t->decode(99), "");
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

TEST_F(Api, ThreadCountDoesNotChangeTheBits) {
  const std::vector<int32_t> toks{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2, 3}) {
    LoadOptions o;
    o.threads = threads;
    auto m = Model::load(path_, o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    auto s = Session::create(**m, {});
    std::vector<float> all(toks.size() * 101);
    ASSERT_TRUE((*s)->prefill(toks, all).ok());
    runs.push_back(all);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
}

}  // namespace
}  // namespace tessera
