// The converter: key-name mapping (regular, EFT, torch.compile prefix), effective scalars,
// hyperparameter inference and consistency, method/mask inference, safetensors input, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "format/gguf.h"
#include "model/convert.h"
#include "model/model_weights.h"
#include "test_util.h"

namespace tessera {
namespace {

Checkpoint load_fixture(const std::string& name) {
  auto c = read_torch_checkpoint(testing::data_dir() + "/authors/" + name + "/ckpt.pt");
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? c.value() : Checkpoint{};
}

const Tensor* find(const ConvertedModel& m, const std::string& name) {
  for (const Tensor& t : m.tensors)
    if (t.name == name) return &t;
  return nullptr;
}
const Tensor* find(const Checkpoint& c, const std::string& name) {
  for (const Tensor& t : c.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

TEST(Convert, EffectiveScalarsFollowTheAuthorsFormulas) {
  Checkpoint c = load_fixture("fb-regular-softmax");
  auto m = convert_checkpoint(c, {});
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto raw = [&](const char* n) { return tensor_to_f32(*find(c, n)); };
  auto eff = [&](const char* n) { return tensor_to_f32(*find(m.value(), n)); };
  auto lk = raw("blocks.1.attn.leaky_key_beta"), kb = raw("blocks.1.attn.kernel_beta");
  auto vb = raw("blocks.1.attn.value_beta"), pkb = raw("blocks.1.pmem.kernel_beta");
  auto decay = eff("blk.1.attn_key_decay"), ks = eff("blk.1.attn_key_scale");
  auto vs = eff("blk.1.attn_value_scale"), qs = eff("blk.1.pmem_query_scale");
  bool saw_clamp = false;
  for (size_t h = 0; h < 4; ++h) {
    EXPECT_FLOAT_EQ(decay[h], float(std::exp(-10.0 * std::fabs(double(lk[h])))));
    EXPECT_FLOAT_EQ(ks[h], float(std::exp(std::min(10.0 * kb[h], 5.0))));
    EXPECT_FLOAT_EQ(vs[h], float(std::exp(10.0 * vb[h])));
    const double b = std::exp(std::min(10.0 * pkb[h], 5.0));
    EXPECT_FLOAT_EQ(qs[h], float(b * b));
    saw_clamp |= 10.0 * kb[h] > 5.0;
  }
  EXPECT_TRUE(saw_clamp) << "the fixtures put one head per module on the clamp";
  EXPECT_EQ(find(m.value(), "output.weight"), nullptr) << "tied head must not be duplicated";
  EXPECT_EQ(find(m.value(), "blk.0.attn_k.weight")->shape, (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(find(m.value(), "blk.0.pmem_mem_k")->shape, (std::vector<int64_t>{1, 4, 40, 8}));
}

TEST(Convert, EftNamesAndCompilePrefixAreMapped) {
  Checkpoint c = load_fixture("fb-eft-softmax");
  ASSERT_TRUE(c.tensors.front().name.starts_with("_orig_mod."));
  auto m = convert_checkpoint(c, {});
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->hparams.source_variant, "eft");
  EXPECT_FLOAT_EQ(m->hparams.l2_norm_eps, 1e-6f);
  auto lin = tensor_to_f32(*find(c, "_orig_mod.blocks.0.attn.leaky_average.linear.weight"));
  EXPECT_EQ(tensor_to_f32(*find(m.value(), "blk.0.attn_k.weight")), lin);
  // EFT value scales are clamped: ctx exp(min(10vb, 5)), pmem min(exp(10vb), 5).
  auto vb = tensor_to_f32(*find(c, "_orig_mod.blocks.0.pmem.value_beta"));
  auto vs = tensor_to_f32(*find(m.value(), "blk.0.pmem_value_scale"));
  for (size_t h = 0; h < vb.size(); ++h) EXPECT_FLOAT_EQ(vs[h], float(std::min(std::exp(10.0 * vb[h]), 5.0)));
}

TEST(Convert, SeedEftVariantMaskIsInferredAndOverridable) {
  Checkpoint c = load_fixture("fb-eft-softmax");
  for (const char* method : {"relumax", "norm_relu", "top4_uniform"}) {
    ConvertOptions o;
    o.method = method;
    auto m = convert_checkpoint(c, o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    EXPECT_EQ(m->hparams.mask_offset, 2) << method;
    EXPECT_EQ(m->hparams.method.form, SeedForm::kEft);
    o.mask_offset = 1;
    EXPECT_EQ(convert_checkpoint(c, o)->hparams.mask_offset, 1) << "option overrides";
  }
  ConvertOptions o;
  o.method = "entmax15";
  EXPECT_EQ(convert_checkpoint(c, o)->hparams.mask_offset, 1);
  Checkpoint r = load_fixture("fb-regular-softmax");
  o.method = "relumax";
  EXPECT_EQ(convert_checkpoint(r, o)->hparams.mask_offset, 1) << "regular file: authors' mask";
}

TEST(Convert, MethodComesFromModelArgsOrOption) {
  EXPECT_EQ(convert_checkpoint(load_fixture("ds-regular-triweight"), {})->hparams.method.kind,
            AttentionKind::kEntmax43);
  auto fb = convert_checkpoint(load_fixture("fb-regular-softmax"), {});
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(fb->hparams.method.kind, AttentionKind::kSoftmax);
  EXPECT_FALSE(fb->notes.empty()) << "defaulting the method must be reported";
  ConvertOptions o;
  o.method = "entmax:1.7";
  auto m = convert_checkpoint(load_fixture("fb-regular-softmax"), o);
  ASSERT_TRUE(m.ok());
  EXPECT_DOUBLE_EQ(m->hparams.method.alpha, 1.7);
  o.method = "entmax:0.5";
  auto bad = convert_checkpoint(load_fixture("fb-regular-softmax"), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("alpha > 1"), std::string::npos) << bad.status().message();
  o.method = "cosine";
  bad = convert_checkpoint(load_fixture("fb-regular-softmax"), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown attention method 'cosine'"), std::string::npos);
}

TEST(Convert, InconsistentModelArgsAreRejectedByName) {
  Checkpoint c = load_fixture("fb-regular-softmax");
  c.config["n_head"] = 8;
  auto m = convert_checkpoint(c, {});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("model_args['n_head'] = 8"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("implies 4"), std::string::npos);
  c = load_fixture("fb-regular-softmax");
  c.config["k_kernel_size"] = 3;
  m = convert_checkpoint(c, {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(m.status().message().find("k_kernel_size"), std::string::npos);
}

TEST(Convert, MissingOrMisshapenTensorsAreNamed) {
  Checkpoint c = load_fixture("fb-regular-softmax");
  std::erase_if(c.tensors, [](const Tensor& t) { return t.name == "blocks.1.attn.v_featurizer.linear.weight"; });
  auto m = convert_checkpoint(c, {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("blocks.1.attn.v_featurizer.linear.weight"), std::string::npos);

  c = load_fixture("fb-regular-softmax");
  for (Tensor& t : c.tensors)
    if (t.name == "blocks.0.attn.c_proj.weight") t.shape = {16, 64};
  m = convert_checkpoint(c, {});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("expected shape [32, 32], found [16, 64]"), std::string::npos)
      << m.status().message();
}

TEST(Convert, SafetensorsFolderGivesTheSameModel) {
  Checkpoint c = load_fixture("ds-regular-biweight");
  testing::TempDir dir("st");
  std::vector<Tensor> tensors;
  for (const Tensor& t : c.tensors)
    if (t.name != "head.weight") tensors.push_back(t);  // HF folders usually omit the tied copy
  ASSERT_TRUE(write_safetensors(dir.file("model.safetensors"), tensors).ok());
  {
    std::ofstream cfg(dir.file("config.json"));
    cfg << c.config.dump();
  }
  auto st = read_any_checkpoint(dir.path().string());
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  auto a = convert_checkpoint(c, {});
  auto b = convert_checkpoint(st.value(), {});
  ASSERT_TRUE(a.ok() && b.ok()) << b.status().to_string();
  EXPECT_EQ(b->hparams.method.name(), "entmax15");
  ASSERT_EQ(a->tensors.size(), b->tensors.size());
  for (size_t i = 0; i < a->tensors.size(); ++i) {
    EXPECT_EQ(a->tensors[i].name, b->tensors[i].name);
    EXPECT_EQ(tensor_to_f32(a->tensors[i]), tensor_to_f32(b->tensors[i])) << a->tensors[i].name;
  }
}

TEST(Convert, GgufRoundTripKeepsEveryHyperparameter) {
  Checkpoint c = load_fixture("fb-eft-softmax");
  ConvertOptions o;
  o.method = "top3_uniform";
  auto m = convert_checkpoint(c, o);
  ASSERT_TRUE(m.ok());
  testing::TempDir dir("rt");
  ASSERT_TRUE(write_model_gguf(m.value(), dir.file("m.gguf")).ok());
  auto f = gguf::File::open(dir.file("m.gguf"));
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->alignment(), 256u);
  EXPECT_EQ(f->get_string("general.architecture").value(), "memory-mosaics");
  auto hp = ModelWeights::read_hparams(f.value());
  ASSERT_TRUE(hp.ok()) << hp.status().to_string();
  EXPECT_EQ(hp->method.name(), "top3_uniform");
  EXPECT_EQ(hp->method.form, SeedForm::kEft);
  EXPECT_EQ(hp->mask_offset, 2);
  EXPECT_EQ(hp->n_layer, 2);
  EXPECT_FLOAT_EQ(hp->l2_norm_eps, 1e-6f);
  EXPECT_FLOAT_EQ(hp->logit_scale, float(1 / std::sqrt(32.0)));
  for (const Tensor& t : f->tensors()) EXPECT_EQ(uint64_t(t.data - f->tensors()[0].data) % 256, 0u) << t.name;
}

TEST(Convert, ProgressCountsLayersAndBytesAndChangesNoByte) {
  ConvertOptions o;
  std::vector<std::pair<int64_t, int64_t>> layers, bytes;
  o.progress = [&](int64_t done, int64_t total) { layers.emplace_back(done, total); };
  auto m = convert_checkpoint(load_fixture("fb-regular-softmax"), o);
  ASSERT_TRUE(m.ok());
  const int64_t L = m->hparams.n_layer;
  ASSERT_EQ(layers.size(), size_t(L));
  for (int64_t i = 0; i < L; ++i) EXPECT_EQ(layers[size_t(i)], std::make_pair(i + 1, L));
  testing::TempDir dir("progress");
  ASSERT_TRUE(write_model_gguf(m.value(), dir.file("plain.gguf")).ok());
  ASSERT_TRUE(write_model_gguf(m.value(), dir.file("counted.gguf"), [&](int64_t done, int64_t total) {
                bytes.emplace_back(done, total);
              }).ok());
  int64_t tensor_bytes = 0;
  for (const Tensor& t : m->tensors) tensor_bytes += int64_t(t.nbytes);
  ASSERT_FALSE(bytes.empty());
  for (size_t i = 0; i < bytes.size(); ++i) {
    EXPECT_EQ(bytes[i].second, tensor_bytes);
    EXPECT_LE(bytes[i].first, tensor_bytes);
    if (i > 0) {
      EXPECT_GE(bytes[i].first, bytes[i - 1].first);
    }
  }
  EXPECT_EQ(bytes.back().first, tensor_bytes);
  std::ifstream a(dir.file("plain.gguf"), std::ios::binary), b(dir.file("counted.gguf"), std::ios::binary);
  const std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
  EXPECT_FALSE(sa.empty());
  EXPECT_TRUE(sa == sb);
}

TEST(Convert, F16OptionHalvesMatricesOnly) {
  ConvertOptions o;
  o.f16 = true;
  auto m = convert_checkpoint(load_fixture("fb-regular-softmax"), o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(find(m.value(), "blk.0.attn_v.weight")->dtype, DType::kF16);
  EXPECT_EQ(find(m.value(), "blk.0.pmem_mem_v")->dtype, DType::kF16);
  EXPECT_EQ(find(m.value(), "blk.0.attn_key_scale")->dtype, DType::kF32);
  EXPECT_EQ(find(m.value(), "blk.0.attn_norm.weight")->dtype, DType::kF32);
}

}  // namespace
}  // namespace tessera
