// Truncated, corrupt and hostile ckpt.pt inputs: each gives a clear error (file, field, expected,
// found) and never a crash. Inputs are cut/patched fixture bytes or crafted archives.
#include <gtest/gtest.h>

#include "core/file_io.h"
#include "format/checkpoint.h"
#include "torch_test_support.h"

namespace tessera {
namespace {

using testing::as_bytes;
using testing::f32_bytes;
using testing::FakeTensor;
using testing::make_zip;
using testing::PickleBuilder;
using testing::state_dict_pickle;

const std::string kData = TESSERA_TEST_DATA;

std::string fixture_bytes(const std::string& rel) {
  auto b = read_file(kData + "/" + rel);
  EXPECT_TRUE(b.ok()) << rel;
  return b.ok() ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string();
}

Result<Checkpoint> load(const std::string& bytes) { return read_torch_checkpoint_bytes(as_bytes(bytes), "bad.pt"); }

void expect_error(const Result<Checkpoint>& r, StatusCode code, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().rfind("bad.pt", 0), 0u) << "the error must name the file: " << r.status().message();
}

// An archive "m/..." with the given pickle and float32 storages named "0", "1", ...
std::string archive(const std::string& pickle, const std::vector<std::string>& storages) {
  std::vector<std::pair<std::string, std::string>> entries = {{"m/data.pkl", pickle}};
  for (size_t i = 0; i < storages.size(); ++i) entries.emplace_back("m/data/" + std::to_string(i), storages[i]);
  entries.emplace_back("m/version", "3\n");
  return make_zip(entries);
}

TEST(TorchCheckpointHostile, CraftedArchiveBaseline) {
  // The builders themselves produce a loadable checkpoint (so the failures below are the patches').
  FakeTensor t{.name = "w", .numel = 6, .size = {2, 3}, .stride = {3, 1}};
  auto r = load(archive(state_dict_pickle({t}), {f32_bytes(6)}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->tensors.size(), 1u);
  EXPECT_EQ(r->tensors[0].as<float>()[5], 6.0f);
  // Transposed view (stride {1, 2} over a 2x3 storage): row-major copy of the transpose.
  FakeTensor tr{.name = "t", .numel = 6, .size = {3, 2}, .stride = {1, 3}};
  r = load(archive(state_dict_pickle({tr}), {f32_bytes(6)}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const std::vector<float> want = {1, 4, 2, 5, 3, 6};
  EXPECT_EQ(std::vector<float>(r->tensors[0].as<float>().begin(), r->tensors[0].as<float>().end()), want);
  // A bare state dict whose first tensor is named "model" is still a bare state dict.
  FakeTensor named_model{.name = "model"}, other{.name = "x"};
  r = load(archive(state_dict_pickle({named_model, other}, /*wrap_in_model=*/false), {f32_bytes(4)}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->tensors.size(), 2u);
  EXPECT_EQ(r->tensors[0].name, "model");
  EXPECT_EQ(r->tensors[1].data, r->tensors[0].data);
}

TEST(TorchCheckpointHostile, Torch2StyleArchiveIsAccepted) {
  // torch 2.x: folder "archive", byteorder + .data/serialization_id records, _rebuild_tensor_v2
  // with a 7th (metadata) argument, and _rebuild_parameter_with_state.
  PickleBuilder p;
  p.op('}').str("model").op('}').str("p");
  p.global("torch._utils", "_rebuild_parameter_with_state").mark();
  p.global("torch._utils", "_rebuild_tensor_v2").mark();
  p.mark().str("storage").global("torch", "BFloat16Storage").str("0").str("cuda:0").integer(3).tuple().op('Q');
  p.integer(1).int_tuple({2}).int_tuple({1}).op('\x88');
  p.global("collections", "OrderedDict").op(')').op('R').op('}').tuple().op('R');  // 7 arguments
  p.op('\x88').global("collections", "OrderedDict").op(')').op('R').op('}').tuple().op('R');
  p.op('s').op('s').stop();
  // bf16 storage [1.0, 2.0, -3.0]: 0x3f80, 0x4000, 0xc040
  const std::string storage("\x80\x3f\x00\x40\x40\xc0", 6);
  const std::string zip = make_zip({{"archive/data.pkl", p.s},
                                    {"archive/byteorder", "little"},
                                    {"archive/data/0", storage},
                                    {"archive/version", "3\n"},
                                    {"archive/.data/serialization_id", "0123456789"}});
  auto r = load(zip);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->tensors.size(), 1u);
  const Tensor& t = r->tensors[0];
  EXPECT_EQ(t.name, "p");
  EXPECT_EQ(t.dtype, DType::kBF16);
  EXPECT_EQ(t.shape, std::vector<int64_t>{2});
  EXPECT_EQ(tensor_to_f32(t), (std::vector<float>{2.0f, -3.0f}));  // the view starts at element 1
}

TEST(TorchCheckpointHostile, MisalignedStorageIsCopiedOnceAndStaysShared) {
  // Bytes after STOP are ignored by pickle; use them to put the storage record at an odd offset.
  FakeTensor a{.name = "a", .numel = 6, .size = {6}, .stride = {1}};
  FakeTensor b{.name = "b", .numel = 6, .offset = 2, .size = {4}, .stride = {1}};
  std::string pickle = state_dict_pickle({a, b});
  // Local header 30 + "m/data.pkl" 10 + pickle, then 30 + "m/data/0" 8 before the storage data.
  while ((30 + 10 + pickle.size() + 30 + 8) % 8 != 1) pickle.push_back('\0');
  auto r = load(archive(pickle, {f32_bytes(6)}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Tensor &ta = r->tensors[0], &tb = r->tensors[1];
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ta.data) % alignof(float), 0u);
  EXPECT_EQ(tb.data, ta.data + 2 * sizeof(float));  // one aligned copy, shared
  EXPECT_EQ(tensor_to_f32(tb), (std::vector<float>{3, 4, 5, 6}));
}

TEST(TorchCheckpointHostile, TruncatedAtManyCutPoints) {
  const std::string full = fixture_bytes("authors/fb-eft-softmax/ckpt.pt");
  ASSERT_GT(full.size(), 10000u);
  std::vector<size_t> cuts = {0, 1, 3, 4, 21, 22, 30, 64, 100};
  for (size_t c = 128; c < full.size(); c += 997) cuts.push_back(c);
  for (size_t back = 1; back <= 128; ++back) cuts.push_back(full.size() - back);
  for (size_t cut : cuts) {
    auto r = load(full.substr(0, cut));
    ASSERT_FALSE(r.ok()) << "cut at " << cut;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruptFile) << r.status().to_string();
    EXPECT_EQ(r.status().message().rfind("bad.pt", 0), 0u) << r.status().message();
  }
}

TEST(TorchCheckpointHostile, EveryByteFlippedInASmallFileIsSafe) {
  // Flip each byte of a small torch file: either a clean error, or (for bytes no reader checks,
  // like ZIP timestamps or padding) the same tensors as the original. Never a crash.
  const std::string good = fixture_bytes("torch/bare_state_dict.pt");
  auto ref = load(good);
  ASSERT_TRUE(ref.ok());
  size_t errors = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = char(bad[i] ^ 0x5A);
    auto r = load(bad);
    if (!r.ok()) {
      ++errors;
      EXPECT_FALSE(r.status().message().empty());
      continue;
    }
    ASSERT_EQ(r->tensors.size(), ref->tensors.size()) << "flip at " << i;
    for (size_t k = 0; k < ref->tensors.size(); ++k) {
      ASSERT_EQ(r->tensors[k].nbytes, ref->tensors[k].nbytes) << "flip at " << i;
      EXPECT_EQ(std::memcmp(r->tensors[k].data, ref->tensors[k].data, ref->tensors[k].nbytes), 0)
          << "flip at " << i << " changed tensor bytes without an error";
    }
  }
  EXPECT_GT(errors, good.size() / 2);  // CRCs cover data and pickle; headers are checked
}

TEST(TorchCheckpointHostile, BadZipOffsetsInFixture) {
  const std::string good = fixture_bytes("authors/fb-regular-softmax/ckpt.pt");
  std::string bad = good;
  const size_t eocd = bad.size() - 22, locator = eocd - 20;
  bad.replace(locator + 8, 8, std::string("\x00\x00\x00\x00\x10\x00\x00\x00", 8));
  expect_error(load(bad), StatusCode::kCorruptFile, "ZIP64 end-of-central-directory offset");
  // First central directory entry's local header offset moved into the middle of a record.
  bad = good;
  const size_t cd = size_t(uint8_t(bad[eocd + 16])) | size_t(uint8_t(bad[eocd + 17])) << 8 |
                    size_t(uint8_t(bad[eocd + 18])) << 16 | size_t(uint8_t(bad[eocd + 19])) << 24;
  ASSERT_EQ(bad.substr(cd, 4), std::string("PK\x01\x02", 4));
  bad.replace(cd + 42, 4, std::string("\x10\x00\x00\x00", 4));
  expect_error(load(bad), StatusCode::kCorruptFile, "local header signature at offset 16");
}

TEST(TorchCheckpointHostile, NotAZipOrEmptyArchive) {
  expect_error(load("hello world"), StatusCode::kCorruptFile, "expected the ZIP signature");
  expect_error(load(""), StatusCode::kCorruptFile, "ZIP signature");
  expect_error(load(make_zip({})), StatusCode::kCorruptFile, "ZIP signature");  // starts with PK\5\6
  expect_error(load(make_zip({{"noslash", "x"}})), StatusCode::kCorruptFile, "not inside a top-level folder");
  expect_error(load(make_zip({{"m/version", "3\n"}})), StatusCode::kCorruptFile, "no 'm/data.pkl' record");
}

TEST(TorchCheckpointHostile, StorageShorterThanNumelSays) {
  FakeTensor t{.name = "w", .numel = 10, .size = {10}, .stride = {1}};
  expect_error(load(archive(state_dict_pickle({t}), {f32_bytes(4)})), StatusCode::kCorruptFile,
               "storage record 'm/data/0': expected 10 x F32 = 40 bytes, found 16");
  FakeTensor missing{.name = "w", .key = "7"};
  expect_error(load(archive(state_dict_pickle({missing}), {f32_bytes(4)})), StatusCode::kCorruptFile,
               "'m/data/7' is referenced by data.pkl but missing");
}

TEST(TorchCheckpointHostile, OutOfRangeOffsetOrStride) {
  FakeTensor off{.name = "w", .numel = 4, .offset = 2, .size = {4}, .stride = {1}};
  expect_error(load(archive(state_dict_pickle({off}), {f32_bytes(4)})), StatusCode::kCorruptFile,
               "tensor 'w': storage offset 2, size [4] and strides reach element 5, but storage '0' has 4 elements");
  FakeTensor stride{.name = "w", .numel = 6, .size = {2, 3}, .stride = {4, 1}};
  expect_error(load(archive(state_dict_pickle({stride}), {f32_bytes(6)})), StatusCode::kCorruptFile, "reach element 6");
  FakeTensor huge{.name = "w", .numel = 4, .size = {0x7fffffff, 0x7fffffff, 0x7fffffff}, .stride = {1, 1, 1}};
  expect_error(load(archive(state_dict_pickle({huge}), {f32_bytes(4)})), StatusCode::kCorruptFile, "overflow");
  FakeTensor neg{.name = "w", .numel = 4, .offset = -1};
  expect_error(load(archive(state_dict_pickle({neg}), {f32_bytes(4)})), StatusCode::kCorruptFile,
               "storage_offset must be an int >= 0");
  FakeTensor broadcast{.name = "w", .numel = 2, .size = {3, 2}, .stride = {0, 1}};
  expect_error(load(archive(state_dict_pickle({broadcast}), {f32_bytes(2)})), StatusCode::kUnsupported,
               "overlapping/broadcast");
}

TEST(TorchCheckpointHostile, HostileGlobalsInsideACheckpoint) {
  PickleBuilder p;
  p.op('}').str("model").global("os", "system").mark().str("echo pwned").tuple().op('R').op('s').stop();
  expect_error(load(archive(p.s, {})), StatusCode::kUnsupported, "global 'os.system' is not allowed");
  PickleBuilder q;
  q.global("builtins", "eval").mark().str("__import__('os')").tuple().op('R').stop();
  expect_error(load(archive(q.s, {})), StatusCode::kUnsupported, "builtins.eval");
  PickleBuilder u;
  u.raw(std::string("\xfe", 1));
  expect_error(load(archive(u.s, {})), StatusCode::kCorruptFile, "unknown opcode 0xfe");
}

TEST(TorchCheckpointHostile, StateDictShape) {
  // Duplicate names, a non-tensor entry, a non-dict root, conflicting storage dtypes.
  FakeTensor a{.name = "w"};
  expect_error(load(archive(state_dict_pickle({a, a}), {f32_bytes(4)})), StatusCode::kCorruptFile,
               "tensor 'w' appears twice");
  PickleBuilder p;
  p.op('}').str("model").op('}').str("w").integer(3).op('s').op('s').stop();
  expect_error(load(archive(p.s, {})), StatusCode::kUnsupported, "entry 'w' of 'model' is a int, expected a tensor");
  PickleBuilder bare;
  bare.op('}').str("iter_num").integer(3).op('s').stop();
  expect_error(load(archive(bare.s, {})), StatusCode::kUnsupported, "no 'model' key");
  expect_error(load(archive(PickleBuilder().op(']').stop().s, {})), StatusCode::kUnsupported,
               "data.pkl holds a list, expected a dict");
  FakeTensor half{.name = "h", .storage_class = "HalfStorage"};
  expect_error(load(archive(state_dict_pickle({a, half}), {f32_bytes(4)})), StatusCode::kCorruptFile,
               "storage '0' is referenced as F16 x 4 after F32 x 4");
}

TEST(TorchCheckpointHostile, ModelArgsDepthAndTypes) {
  // model_args nested 100000 deep: refused by depth, without recursion trouble.
  PickleBuilder p;
  p.op('}').str("model").op('}').op('s').str("model_args");
  for (int i = 0; i < 100000; ++i) p.op(']');
  for (int i = 1; i < 100000; ++i) p.op('a');
  p.op('s').stop();
  expect_error(load(archive(p.s, {})), StatusCode::kUnsupported, "nested deeper than 64 levels");
  // A list that contains itself.
  PickleBuilder c;
  c.op('}').str("model").op('}').op('s').str("model_args").op('}').str("loop").op(']').raw("q\x07").raw("h\x07");
  c.op('a').op('s').op('s').stop();
  expect_error(load(archive(c.s, {})), StatusCode::kUnsupported, "nested deeper");
  PickleBuilder b;
  b.op('}').str("model").op('}').op('s').str("model_args").op('}').str("blob");
  b.raw(std::string("C\x01z", 3)).op('s').op('s').stop();
  expect_error(load(archive(b.s, {})), StatusCode::kUnsupported, "model_args.blob: a bytes value");
}

TEST(TorchCheckpointHostile, ModelArgsSharedReferencesAreBoundedBySize) {
  // L0 = [], L(i) = [L(i-1), L(i-1)] through the memo: 40 levels (within the depth limit) are a few
  // hundred pickle bytes but 2^41 - 1 values when copied out as a tree. The conversion stops at its
  // value budget instead of allocating until killed.
  PickleBuilder p;
  p.op('}').str("model").op('}').op('s').str("model_args").op('}').str("args");
  // Each level is memoised (BINPUT) and popped; the last is fetched back (BINGET) as the value.
  p.op(']').raw(std::string("q\x00", 2)).op('0');
  for (int i = 1; i <= 40; ++i) {
    const std::string prev(1, char(i - 1)), here(1, char(i));
    p.mark().raw("h" + prev).raw("h" + prev).op('l').raw("q" + here).op('0');
  }
  p.raw(std::string("h\x28", 2)).op('s').op('s').stop();
  ASSERT_LT(p.s.size(), 512u);
  expect_error(load(archive(p.s, {})), StatusCode::kResourceExhausted, "more than 100000 values when expanded");
  // The same shape 10 levels deep (2047 values) is plain data and converts.
  PickleBuilder small;
  small.op('}').str("model").op('}').op('s').str("model_args").op('}').str("args");
  small.op(']').raw(std::string("q\x00", 2)).op('0');
  for (int i = 1; i <= 10; ++i) {
    const std::string prev(1, char(i - 1)), here(1, char(i));
    small.mark().raw("h" + prev).raw("h" + prev).op('l').raw("q" + here).op('0');
  }
  small.raw(std::string("h\x0a", 2)).op('s').op('s').stop();
  auto ok = load(archive(small.s, {}));
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  const nlohmann::json* j = &ok->config["args"];
  for (int depth = 0; depth < 10; ++depth) {
    ASSERT_TRUE(j->is_array());
    ASSERT_EQ(j->size(), 2u);
    j = &(*j)[1];
  }
  EXPECT_TRUE(j->is_array() && j->empty());
}

TEST(TorchCheckpointHostile, MetadataInErrorsIsEscaped) {
  // A model_args key carrying a terminal escape (clear screen) and a NUL: the error quotes it escaped.
  PickleBuilder b;
  b.op('}').str("model").op('}').op('s').str("model_args").op('}').str(std::string("\x1b[2J\0x", 6));
  b.raw(std::string("C\x01z", 3)).op('s').op('s').stop();
  auto r = load(archive(b.s, {}));
  expect_error(r, StatusCode::kUnsupported, "model_args.\\x1b[2J\\x00x: a bytes value");
  EXPECT_EQ(r.status().message().find('\x1b'), std::string::npos);
  EXPECT_EQ(r.status().message().find('\0'), std::string::npos);
}

TEST(TorchCheckpointHostile, BigEndianByteorderRecordIsRefused) {
  FakeTensor t{.name = "w"};
  const std::string zip =
      make_zip({{"m/data.pkl", state_dict_pickle({t})}, {"m/byteorder", "big"}, {"m/data/0", f32_bytes(4)}});
  expect_error(load(zip), StatusCode::kUnsupported, "byteorder record says 'big'");
}

}  // namespace
}  // namespace tessera
