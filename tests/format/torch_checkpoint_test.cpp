// read_torch_checkpoint against summaries that torch 1.13 itself wrote
// (tools/reference/dump_checkpoint.py -> tests/data/torch/*.summary.json): every authors' fixture
// and the generated dtype/view/sharing/bare/parameter/protocol-4 files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>

#include "core/file_io.h"
#include "format/checkpoint.h"

namespace tessera {
namespace {

const std::string kData = TESSERA_TEST_DATA;

nlohmann::json load_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return nlohmann::json::parse(in);
}

std::string fnv1a64(const Tensor& t) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (size_t i = 0; i < t.nbytes; ++i) h = (h ^ uint8_t(t.data[i])) * 0x100000001B3ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Element i of any dtype, widened to double exactly (every F32/F16/BF16 and the test's ints are
// exactly representable), so comparisons against the summary can be exact.
double element(const Tensor& t, size_t i) {
  auto ld = [&](auto v) {
    std::memcpy(&v, t.data + i * sizeof v, sizeof v);
    return v;
  };
  switch (t.dtype) {
    case DType::kF32: return ld(float{});
    case DType::kF16: return half_to_float(ld(uint16_t{}));
    case DType::kBF16: return bf16_to_float(ld(uint16_t{}));
    case DType::kF64: return ld(double{});
    case DType::kI8: return ld(int8_t{});
    case DType::kI16: return ld(int16_t{});
    case DType::kI32: return ld(int32_t{});
    case DType::kI64: return double(ld(int64_t{}));
    case DType::kU8: return ld(uint8_t{});
  }
  return NAN;
}

void expect_matches_summary(const Checkpoint& ck, const nlohmann::json& summary) {
  EXPECT_EQ(ck.format, "torch");
  const auto& want = summary["tensors"];
  ASSERT_EQ(ck.tensors.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) {
    const Tensor& t = ck.tensors[k];
    const auto& w = want[k];
    SCOPED_TRACE(w["name"].get<std::string>());
    EXPECT_EQ(t.name, w["name"].get<std::string>());  // file order is kept
    EXPECT_EQ(dtype_name(t.dtype), w["dtype"].get<std::string>());
    EXPECT_EQ(t.shape, w["shape"].get<std::vector<int64_t>>());
    ASSERT_EQ(t.nbytes, size_t(t.numel()) * dtype_size(t.dtype));
    // The hash covers every byte of the row-major data: all values are bit-identical to torch's.
    EXPECT_EQ(fnv1a64(t), w["fnv1a64"].get<std::string>());
    // First values: exact (tolerance 0), also readable when the hash disagrees.
    const auto& first = w["first"];
    for (size_t i = 0; i < first.size(); ++i) {
      if (t.dtype == DType::kI64)
        EXPECT_EQ(element(t, i), double(first[i].get<int64_t>())) << "element " << i;  // test ints are < 2^53 or exact
      else EXPECT_EQ(element(t, i), first[i].get<double>()) << "element " << i;
    }
    // The summary's sum is math.fsum (correctly rounded); a naive float64 sum differs by at most
    // n * 2^-53 * sum|x| (standard error bound of recursive summation).
    double sum = 0, abs_sum = 0;
    const size_t n = size_t(t.numel());
    for (size_t i = 0; i < n; ++i) {
      sum += element(t, i);
      abs_sum += std::fabs(element(t, i));
    }
    EXPECT_NEAR(sum, w["sum"].get<double>(), double(n + 1) * 0x1p-53 * abs_sum);
  }
  // Storage sharing: contiguous tensors of one torch storage point into the same bytes, at
  // their offsets' distance (tied emb.weight/head.weight are the same pointer).
  for (size_t a = 0; a < want.size(); ++a)
    for (size_t b = a + 1; b < want.size(); ++b) {
      const auto &wa = want[a], &wb = want[b];
      if (wa["storage_group"] != wb["storage_group"] || !wa["contiguous"].get<bool>() ||
          !wb["contiguous"].get<bool>() || ck.tensors[a].numel() == 0 || ck.tensors[b].numel() == 0)
        continue;
      const ptrdiff_t expect = (wb["storage_offset"].get<ptrdiff_t>() - wa["storage_offset"].get<ptrdiff_t>()) *
                               ptrdiff_t(dtype_size(ck.tensors[a].dtype));
      EXPECT_EQ(ck.tensors[b].data - ck.tensors[a].data, expect)
          << ck.tensors[a].name << " and " << ck.tensors[b].name << " should share one storage";
    }
  if (summary["model_args"].is_null()) EXPECT_EQ(ck.config, nlohmann::json::object());
  else EXPECT_EQ(ck.config, summary["model_args"]);
}

const char* const kFixtures[] = {"ds-regular-biweight", "ds-regular-epanechnikov", "ds-regular-norm_relu",
                                 "ds-regular-relumax",  "ds-regular-top4_softmax", "ds-regular-triweight",
                                 "fb-eft-softmax",      "fb-regular-softmax"};

class AuthorsFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(AuthorsFixture, MatchesTorchSummary) {
  const std::string path = kData + "/authors/" + GetParam() + "/ckpt.pt";
  auto ck = read_torch_checkpoint(path);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  expect_matches_summary(*ck, load_json(kData + "/torch/" + GetParam() + ".summary.json"));
  EXPECT_EQ(ck->path, path);
}

TEST_P(AuthorsFixture, InMemoryReadEqualsFileRead) {
  const std::string path = kData + "/authors/" + GetParam() + "/ckpt.pt";
  auto bytes = read_file(path);
  ASSERT_TRUE(bytes.ok());
  auto from_file = read_torch_checkpoint(path);
  auto from_mem = read_torch_checkpoint_bytes(*bytes, "mem.pt");
  ASSERT_TRUE(from_file.ok() && from_mem.ok()) << from_mem.status().to_string();
  bytes->assign(bytes->size(), std::byte{0});  // the result must not depend on the caller's buffer
  ASSERT_EQ(from_file->tensors.size(), from_mem->tensors.size());
  for (size_t i = 0; i < from_file->tensors.size(); ++i) {
    const Tensor &a = from_file->tensors[i], &b = from_mem->tensors[i];
    ASSERT_EQ(a.nbytes, b.nbytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << a.name;
  }
  EXPECT_EQ(from_file->config, from_mem->config);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AuthorsFixture, ::testing::ValuesIn(kFixtures), [](const auto& info) {
  std::string s = info.param;
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
});

TEST(TorchCheckpoint, TiedEmbeddingAndHeadShareBytes) {
  auto ck = read_torch_checkpoint(kData + "/authors/ds-regular-biweight/ckpt.pt");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  const Tensor *emb = nullptr, *head = nullptr;
  for (const Tensor& t : ck->tensors) {
    if (t.name == "emb.weight") emb = &t;
    if (t.name == "head.weight") head = &t;
  }
  ASSERT_TRUE(emb && head);
  EXPECT_EQ(emb->data, head->data);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{101, 32}));
  EXPECT_EQ(ck->config["method"], "biweight");
  EXPECT_EQ(ck->config["n_embd"], 32);
  EXPECT_EQ(ck->config["weight_tying"], true);
}

class GeneratedFile : public ::testing::TestWithParam<const char*> {};

TEST_P(GeneratedFile, MatchesTorchSummary) {
  auto ck = read_torch_checkpoint(kData + "/torch/" + GetParam() + ".pt");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  expect_matches_summary(*ck, load_json(kData + "/torch/" + GetParam() + ".summary.json"));
}

INSTANTIATE_TEST_SUITE_P(Torch113, GeneratedFile,
                         ::testing::Values("dtypes", "bare_state_dict", "parameters", "protocol4"));

TEST(TorchCheckpoint, DtypesFileCoversViewsAndConfig) {
  auto ck = read_torch_checkpoint(kData + "/torch/dtypes.pt");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  std::map<std::string, const Tensor*> by_name;
  for (const Tensor& t : ck->tensors) by_name[t.name] = &t;
  // transposed = base.t(): element (i, j) of the copy equals base(j, i).
  const Tensor &base = *by_name.at("base"), &tr = *by_name.at("transposed");
  ASSERT_EQ(tr.shape, (std::vector<int64_t>{5, 6}));
  for (size_t i = 0; i < 5; ++i)
    for (size_t j = 0; j < 6; ++j) EXPECT_EQ(element(tr, i * 6 + j), element(base, j * 5 + i));
  // rows_at_offset = base[2:4] is a contiguous view: it points into base's bytes.
  EXPECT_EQ(by_name.at("rows_at_offset")->data, base.data + 10 * 4);
  EXPECT_EQ(by_name.at("scalar")->shape, std::vector<int64_t>{});
  EXPECT_EQ(element(*by_name.at("scalar"), 0), 3.5);
  EXPECT_EQ(by_name.at("empty")->nbytes, 0u);
  EXPECT_EQ(by_name.at("bool")->dtype, DType::kU8);
  // Ints beyond 64 bits arrive as decimal strings; u64 max stays a number.
  EXPECT_EQ(ck->config["big"], "1180591620717411303424");
  EXPECT_EQ(ck->config["neg_big"], "-1180591620717411303424");
  EXPECT_EQ(ck->config["u64_max"].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(ck->config["i64_min"].get<int64_t>(), INT64_MIN);
  EXPECT_EQ(ck->config["pair"], nlohmann::json::array({3, 4}));
}

TEST(TorchCheckpoint, LegacyFormatIsRefusedClearly) {
  auto ck = read_torch_checkpoint(kData + "/torch/legacy.pt");
  ASSERT_FALSE(ck.ok());
  EXPECT_EQ(ck.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(ck.status().message().find("legacy"), std::string::npos) << ck.status().message();
  EXPECT_NE(ck.status().message().find("legacy.pt"), std::string::npos);
}

TEST(TorchCheckpoint, MissingFileIsNotFound) {
  auto ck = read_torch_checkpoint(kData + "/torch/no-such-file.pt");
  ASSERT_FALSE(ck.ok());
  EXPECT_EQ(ck.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera
