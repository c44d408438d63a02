// Hugging Face save_pretrained layouts: prefixed keys, F16/BF16 tensors, sharded folders with
// model.safetensors.index.json give the same model as the authors' ckpt.pt; an index that disagrees with its
// shards, a missing shard or another architecture is refused naming the file and field. Also the general.*
// keys the converter writes, and that files written before them still load.
#include <gtest/gtest.h>

#include <filesystem>

#include "format/gguf.h"
#include "hf_folder.h"
#include "model/convert.h"
#include "model/hparams_gguf.h"
#include "tessera/tessera.h"
#include "tessera/version.h"
#include "test_util.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing::HfFolderOptions;

Checkpoint fixture(const std::string& name) {
  auto c = read_torch_checkpoint(testing::data_dir() + "/authors/" + name + "/ckpt.pt");
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? c.value() : Checkpoint{};
}

// Logits at every position of the fixture's token sequence, float32 CPU backend.
std::vector<float> logits_of(const ConvertedModel& m, const std::string& gguf_path,
                             const std::vector<int32_t>& tokens) {
  EXPECT_TRUE(write_model_gguf(m, gguf_path).ok());
  auto model = Model::load(gguf_path, {});
  EXPECT_TRUE(model.ok()) << model.status().to_string();
  if (!model.ok()) return {};
  SessionOptions so;
  so.max_tokens = int64_t(tokens.size());
  auto session = Session::create(**model, so);
  std::vector<float> out(tokens.size() * size_t(m.hparams.vocab_size));
  EXPECT_TRUE((*session)->prefill(tokens, out).ok());
  return out;
}

std::vector<int32_t> fixture_tokens(const std::string& name) {
  auto j = testing::read_json(testing::data_dir() + "/authors/" + name + "/expected.json");
  return j["tokens"].get<std::vector<int32_t>>();
}

Result<ConvertedModel> convert_folder(const std::string& dir) {
  TESSERA_ASSIGN_OR_RETURN(Checkpoint c, read_any_checkpoint(dir));
  return convert_checkpoint(c, {});
}

// F32 shards with "model."-prefixed keys hold the very same floats as ckpt.pt: the logits must be identical.
TEST(ConvertHf, ShardedPrefixedFolderGivesTheCkptLogitsExactly) {
  for (const char* name : {"ds-regular-biweight", "fb-eft-softmax"}) {
    SCOPED_TRACE(name);
    const Checkpoint c = fixture(name);
    testing::TempDir dir("hf");
    HfFolderOptions o;
    o.prefix = "transformer.";
    o.shards = 3;
    auto weight_map = testing::write_hf_folder(c, dir.path().string(), o);
    ASSERT_FALSE(weight_map.empty());
    EXPECT_TRUE(fs::exists(dir.file("model-00003-of-00003.safetensors")));
    auto from_ckpt = convert_checkpoint(c, {});
    auto from_hf = convert_folder(dir.path().string());
    ASSERT_TRUE(from_ckpt.ok() && from_hf.ok()) << from_hf.status().to_string();
    // (fb-eft-softmax's names also carry torch.compile's '_orig_mod.', which goes with the prefix.)
    EXPECT_NE(std::find_if(from_hf->notes.begin(), from_hf->notes.end(),
                           [](const std::string& n) { return n.starts_with("stripped the prefix 'transformer."); }),
              from_hf->notes.end());
    EXPECT_EQ(from_hf->hparams.method.name(), from_ckpt->hparams.method.name());
    EXPECT_EQ(from_hf->hparams.source_variant, from_ckpt->hparams.source_variant);
    const auto tokens = fixture_tokens(name);
    const auto want = logits_of(*from_ckpt, dir.file("ckpt.gguf"), tokens);
    const auto got = logits_of(*from_hf, dir.file("hf.gguf"), tokens);
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(got, want);
  }
}

// F16 and BF16 folders: the converter reads the stored halves exactly, so the model equals ckpt.pt's with
// every float rounded through that type (rounded here, independently of the reader).
TEST(ConvertHf, HalfPrecisionFoldersDecodeExactly) {
  const Checkpoint c = fixture("ds-regular-triweight");
  const auto tokens = fixture_tokens("ds-regular-triweight");
  for (DType dtype : {DType::kF16, DType::kBF16}) {
    SCOPED_TRACE(dtype_name(dtype));
    testing::TempDir dir("hf16");
    HfFolderOptions o;
    o.dtype = dtype;
    testing::write_hf_folder(c, dir.path().string(), o);
    auto from_hf = convert_folder(dir.path().string());
    auto reference = convert_checkpoint(testing::rounded_through(c, dtype), {});
    ASSERT_TRUE(from_hf.ok() && reference.ok()) << from_hf.status().to_string();
    ASSERT_EQ(from_hf->tensors.size(), reference->tensors.size());
    for (size_t i = 0; i < reference->tensors.size(); ++i)
      EXPECT_EQ(tensor_to_f32(from_hf->tensors[i]), tensor_to_f32(reference->tensors[i])) << reference->tensors[i].name;
    EXPECT_EQ(logits_of(*from_hf, dir.file("hf.gguf"), tokens), logits_of(*reference, dir.file("ref.gguf"), tokens));
  }
}

struct BadFolder {
  const char* name;
  std::function<void(const std::string& dir, std::map<std::string, std::string>& weight_map)> damage;
  std::vector<std::string> message;  // every piece must be in the error
};

TEST(ConvertHf, ShardsThatDisagreeWithTheIndexAreRefusedByName) {
  const Checkpoint c = fixture("fb-regular-softmax");
  const std::string index = "model.safetensors.index.json";
  const std::vector<BadFolder> cases = {
      {"missing shard",
       [](const std::string& dir, auto&) { fs::remove(dir + "/model-00002-of-00002.safetensors"); },
       {index, "shard 'model-00002-of-00002.safetensors'", "is missing"}},
      {"index lists a tensor the shard lacks",
       [&](const std::string& dir, auto& wm) {
         wm["model.blocks.9.attn.c_proj.weight"] = "model-00001-of-00002.safetensors";
         testing::write_hf_index(dir, wm);
       },
       {index, "weight_map['model.blocks.9.attn.c_proj.weight']", "has no tensor 'model.blocks.9.attn.c_proj.weight'"}},
      {"shard holds a tensor the index does not list",
       [&](const std::string& dir, auto& wm) {
         wm.erase("model.emb.weight");
         testing::write_hf_index(dir, wm);
       },
       {"model-00001-of-00002.safetensors", "tensor 'model.emb.weight' is not in", index}},
      {"index points a tensor at the other shard",
       [&](const std::string& dir, auto& wm) {
         wm["model.emb.weight"] = "model-00002-of-00002.safetensors";
         testing::write_hf_index(dir, wm);
       },
       {"model-00001-of-00002.safetensors: tensor 'model.emb.weight'",
        "puts it in 'model-00002-of-00002.safetensors'"}},
      {"tensor duplicated in two shards",
       [&](const std::string& dir, auto& wm) {
         // Shard 2 rewritten with shard 1's first tensor added.
         auto one = read_safetensors(dir + "/model-00001-of-00002.safetensors");
         auto two = read_safetensors(dir + "/model-00002-of-00002.safetensors");
         ASSERT_TRUE(one.ok() && two.ok());
         std::vector<Tensor> both = two->tensors;
         both.push_back(one->tensors.front());
         ASSERT_TRUE(write_safetensors(dir + "/dup.safetensors", both).ok());
         fs::rename(dir + "/dup.safetensors", dir + "/model-00002-of-00002.safetensors");
         (void)wm;
       },
       {"model-00002-of-00002.safetensors: tensor '",
        "expected once in the checkpoint, found in 'model-00001-of-00002.safetensors' too"}},
      {"shard outside the folder",
       [&](const std::string& dir, auto& wm) {
         wm["model.emb.weight"] = "../model-00001-of-00002.safetensors";
         testing::write_hf_index(dir, wm);
       },
       {index, "weight_map['model.emb.weight']", "expected a .safetensors file name in the same folder"}},
      {"index without weight_map",
       [](const std::string& dir, auto&) {
         std::ofstream(dir + "/model.safetensors.index.json") << "{\"metadata\": {}}";
       },
       {index, "weight_map: expected an object"}},
      {"index with a key twice",
       [](const std::string& dir, auto&) {
         std::ofstream(dir + "/model.safetensors.index.json")
             << R"({"weight_map": {"model.emb.weight": "a.safetensors", "model.emb.weight": "b.safetensors"}})";
       },
       {index, "duplicate key \"model.emb.weight\""}},
  };
  for (const BadFolder& bad : cases) {
    SCOPED_TRACE(bad.name);
    testing::TempDir dir("hfbad");
    HfFolderOptions o;
    o.shards = 2;
    auto wm = testing::write_hf_folder(c, dir.path().string(), o);
    ASSERT_FALSE(wm.empty());
    bad.damage(dir.path().string(), wm);
    auto r = convert_folder(dir.path().string());
    ASSERT_FALSE(r.ok());
    for (const std::string& piece : bad.message)
      EXPECT_NE(r.status().message().find(piece), std::string::npos) << piece << "\n" << r.status().message();
  }
}

TEST(ConvertHf, AnotherArchitectureIsRefusedByName) {
  testing::TempDir dir("hfllama");
  // A Llama-style folder: config.json says so, the tensors have Llama names.
  const float w[4] = {1, 2, 3, 4};
  ASSERT_TRUE(write_safetensors(dir.file("model.safetensors"),
                                {make_f32_tensor("model.embed_tokens.weight", {2, 2}, w),
                                 make_f32_tensor("model.layers.0.self_attn.q_proj.weight", {2, 2}, w)})
                  .ok());
  std::ofstream(dir.file("config.json")) << R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"]})";
  auto r = convert_folder(dir.path().string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find(dir.file("config.json") +
                                      ": model_type: expected \"memory-mosaics\", found \"llama\""),
            std::string::npos)
      << r.status().message();
  // Without config.json the tensor names give it away.
  fs::remove(dir.file("config.json"));
  r = convert_folder(dir.path().string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tensor 'emb.weight' is missing: not a Memory Mosaics state dict (found e.g. "
                                      "'model.embed_tokens.weight'"),
            std::string::npos)
      << r.status().message();
}

TEST(ConvertHf, GgufCarriesGeneralKeys) {
  testing::TempDir dir("general");
  const Checkpoint c = fixture("ds-regular-epanechnikov");
  for (bool f16 : {false, true}) {
    ConvertOptions o;
    o.f16 = f16;
    auto m = convert_checkpoint(c, o);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(write_model_gguf(*m, dir.file("m.gguf")).ok());
    auto f = gguf::File::open(dir.file("m.gguf"));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->get_string("general.architecture").value(), "memory-mosaics");
    EXPECT_EQ(f->get_string("general.name").value(), "ds-regular-epanechnikov");  // the fixture's folder
    EXPECT_EQ(f->get_int("general.file_type").value(), f16 ? 1 : 0);              // llama.cpp: ALL_F32 / MOSTLY_F16
    EXPECT_EQ(f->get_int("general.quantization_version").value(), 2);
    EXPECT_EQ(f->get_string("tessera.converter_version").value(), TESSERA_VERSION_STRING);
  }
  ConvertOptions named;
  named.name = "my model";
  EXPECT_EQ(convert_checkpoint(c, named)->name, "my model");
  EXPECT_EQ(model_name_from_path("/x/gpt2/model.safetensors"), "gpt2");
  EXPECT_EQ(model_name_from_path("/x/gpt2/small.pt"), "small");
  EXPECT_EQ(model_name_from_path(testing::data_dir() + "/authors/fb-eft-softmax/"), "fb-eft-softmax");
}

// The shipped models predate the general.* keys (their bytes are fixed): they must keep loading.
TEST(ConvertHf, FilesWithoutTheNewKeysStillLoad) {
  const std::string path = testing::data_dir() + "/../../examples/models/mqmtar-softmax/model.gguf";
  auto f = gguf::File::open(path);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  ASSERT_FALSE(f->has("general.file_type")) << "the shipped file was regenerated: pick one without the keys";
  EXPECT_FALSE(f->has("tessera.converter_version"));
  auto m = Model::load(path, {});
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto s = Session::create(**m, {});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->prefill(std::vector<int32_t>{1, 2, 3}).ok());
}

}  // namespace
}  // namespace tessera
