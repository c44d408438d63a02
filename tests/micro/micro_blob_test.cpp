// The packed microcontroller blob (tessera pack → tessera_micro) reproduces the cpu-int8 plan's int32
// logits bit for bit on every shipped int8 model (the plan here runs the portable kernels; tessera_micro
// the fastest this CPU has), and every kind of bad input gets its own status code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>

#include "cpu_int8/int8_forward.h"
#include "cpu_int8/int8_plan.h"
#include "format/gguf.h"
#include "micro/micro_format.h"
#include "micro/tessera_micro.h"
#include "model/model_weights.h"
#include "quant/micro_pack.h"

namespace tessera {
namespace {

const std::string kModels = std::string(TESSERA_TEST_DATA) + "/../../examples/models/";

// Bytes at a 64-byte boundary (the blob needs 16, as in flash).
struct Aligned {
  explicit Aligned(size_t n)
      : size(n), data(static_cast<uint8_t*>(std::aligned_alloc(64, (n + 64) & ~size_t(63))), &std::free) {}
  explicit Aligned(const std::vector<uint8_t>& bytes) : Aligned(bytes.size()) {
    std::memcpy(data.get(), bytes.data(), size);
  }
  size_t size;
  std::unique_ptr<uint8_t, decltype(&std::free)> data;
};

// Tokens a model sees: a deterministic walk over the vocabulary (every id class, repeats included).
std::vector<int32_t> walk(int64_t vocab, int n) {
  std::vector<int32_t> t;
  uint32_t s = 12345;
  for (int i = 0; i < n; ++i) {
    s = s * 1103515245u + 12345u;
    t.push_back(int32_t((s >> 8) % uint32_t(vocab)));
  }
  return t;
}

class ShippedBlob : public ::testing::TestWithParam<std::string> {};

// The packed blob's logits through tessera_micro against the plan's through int8_forward_token.
void expect_blob_matches_plan(const int8::Int8Plan& plan, const std::vector<uint8_t>& packed, const std::string& name) {
  Aligned blob(packed);
  const int T = 40;
  const int64_t V = plan.model.vocab_size;
  const std::vector<int32_t> tokens = walk(V, T);
  std::vector<unsigned char> ref_arena(int8::int8_state_bytes(plan.model, T) + 64);
  int8::Int8State ref;
  int8::int8_state_bind(plan.model, T, reinterpret_cast<void*>((uintptr_t(ref_arena.data()) + 63) & ~uintptr_t(63)),
                        &ref);

  size_t need = 0;
  ASSERT_EQ(tm_arena_bytes(blob.data.get(), blob.size, T, &need), TM_OK);
  std::vector<unsigned char> arena(need + 1);
  tm_runtime* rt = nullptr;
  // An odd arena address: tm_init aligns inside the size it asked for.
  ASSERT_EQ(tm_init(blob.data.get(), blob.size, arena.data() + 1, need, T, &rt), TM_OK);
  ASSERT_EQ(tm_vocab_size(rt), uint32_t(V));
  std::vector<int32_t> expected(static_cast<size_t>(V));
  std::vector<std::vector<int32_t>> first_pass;
  for (int t = 0; t < T; ++t) {
    int8::int8_forward_token(plan.model, &ref, tokens[size_t(t)], expected.data());
    ASSERT_EQ(tm_feed(rt, tokens[size_t(t)], 1), TM_OK);
    const int32_t* got = tm_logits(rt);
    ASSERT_EQ(0, std::memcmp(got, expected.data(), size_t(V) * 4)) << name << ": position " << t;
    first_pass.emplace_back(got, got + V);
  }
  EXPECT_EQ(tm_position(rt), uint32_t(T));
  // A reset sequence repeats itself exactly.
  ASSERT_EQ(tm_reset(rt), TM_OK);
  for (int t = 0; t < 5; ++t) {
    ASSERT_EQ(tm_feed(rt, tokens[size_t(t)], 1), TM_OK);
    ASSERT_EQ(0, std::memcmp(tm_logits(rt), first_pass[size_t(t)].data(), size_t(V) * 4));
  }
}

TEST_P(ShippedBlob, PackedLogitsEqualTheCpuInt8PlanBitForBit) {
  const std::string path = kModels + GetParam() + "/model-int8.gguf";
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.status().to_string();
  auto weights = ModelWeights::from_gguf(std::make_shared<const gguf::File>(std::move(*file)));
  ASSERT_TRUE(weights.ok()) << weights.status().to_string();
  auto plan = int8::build_int8_plan(**weights, ops::int8::int8_kernels_for(ops::int8::Isa::kPortable));
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  auto packed = quant::pack_micro_blob_from_gguf(path);
  ASSERT_TRUE(packed.ok()) << packed.status().to_string();
  uint32_t version = 0;
  std::memcpy(&version, packed->data() + 4, 4);
  EXPECT_EQ(version, micro::kBlobVersionInt16Values);  // what firmware built before the int8 value cache reads
  expect_blob_matches_plan(**plan, *packed, GetParam());

  // The same model with the int8 value cache (`tessera quantize --value-cache int8` sets it): version 2, the
  // same bits on both sides, and an arena smaller by half the value cache.
  (*plan)->model.value_cache_int8 = true;
  auto packed_q7 = quant::pack_micro_blob(**plan);
  ASSERT_TRUE(packed_q7.ok()) << packed_q7.status().to_string();
  std::memcpy(&version, packed_q7->data() + 4, 4);
  EXPECT_EQ(version, micro::kBlobVersion);
  expect_blob_matches_plan(**plan, *packed_q7, GetParam() + " (int8 value cache)");
  Aligned a16(*packed), a8(*packed_q7);
  size_t bytes16 = 0, bytes8 = 0;
  ASSERT_EQ(tm_arena_bytes(a16.data.get(), a16.size, 64, &bytes16), TM_OK);
  ASSERT_EQ(tm_arena_bytes(a8.data.get(), a8.size, 64, &bytes8), TM_OK);
  const auto& m = (*plan)->model;
  EXPECT_LE(bytes8 + size_t(m.n_layer * 64 * m.n_embd) - 64, bytes16);  // one 64-byte rounding either way
}

INSTANTIATE_TEST_SUITE_P(Models, ShippedBlob,
                         ::testing::Values("fortunes-char", "mqmtar-softmax", "mqmtar-biweight", "mqmtar-epanechnikov",
                                           "mqmtar-relumax", "mqmtar-triweight"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

class BadBlob : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto packed = quant::pack_micro_blob_from_gguf(kModels + "mqmtar-softmax/model-int8.gguf");
    ASSERT_TRUE(packed.ok()) << packed.status().to_string();
    good_ = new std::vector<uint8_t>(std::move(*packed));
  }
  static void TearDownTestSuite() { delete good_; }

  static uint32_t word(const std::vector<uint8_t>& b, size_t at) {
    uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
  }
  static void set_word(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
  // Rewrites the checksum, so that only the field changed is wrong.
  static void reseal(std::vector<uint8_t>& b) {
    set_word(b, 12, micro::blob_checksum(b.data() + 16, uint32_t(b.size() - 16)));
  }
  static tm_status check(const std::vector<uint8_t>& b, size_t bytes) {
    Aligned a(b);
    size_t need = 0;
    return tm_arena_bytes(a.data.get(), bytes, 16, &need);
  }
  static tm_status check(const std::vector<uint8_t>& b) { return check(b, b.size()); }

  static std::vector<uint8_t>* good_;
};
std::vector<uint8_t>* BadBlob::good_ = nullptr;

constexpr size_t kModelAt = sizeof(micro::BlobHeader);

TEST_F(BadBlob, GoodBlobValidates) {
  EXPECT_EQ(check(*good_), TM_OK);
  Aligned a(*good_);
  tm_model_info info{};
  ASSERT_EQ(tm_check_blob(a.data.get(), a.size, &info), TM_OK);
  EXPECT_EQ(info.vocab_size, 263u);
  EXPECT_EQ(info.n_embd, 128u);
  EXPECT_EQ(info.n_layer, 2u);
}

TEST_F(BadBlob, TruncatedBlob) {
  EXPECT_EQ(check(*good_, good_->size() - 1), TM_ERR_TRUNCATED);
  EXPECT_EQ(check(*good_, 20), TM_ERR_TRUNCATED);
  EXPECT_EQ(check(*good_, 0), TM_ERR_TRUNCATED);
}

TEST_F(BadBlob, CorruptedByteFailsTheChecksum) {
  for (size_t at : {size_t(16), size_t(100), good_->size() / 2, good_->size() - 1}) {
    std::vector<uint8_t> b = *good_;
    b[at] ^= 0x10;
    EXPECT_EQ(check(b), TM_ERR_CHECKSUM) << "byte " << at;
  }
}

TEST_F(BadBlob, WrongMagicAndVersion) {
  std::vector<uint8_t> b = *good_;
  set_word(b, 4, micro::kBlobVersion + 1);
  EXPECT_EQ(check(b), TM_ERR_BAD_VERSION);
  b = *good_;
  b[0] = 'G';
  EXPECT_EQ(check(b), TM_ERR_BAD_MAGIC);
}

TEST_F(BadBlob, FlagsThisVersionDoesNotDefine) {
  std::vector<uint8_t> b = *good_;
  const size_t model_flags = kModelAt + offsetof(micro::ModelRecord, flags);
  set_word(b, model_flags, word(b, model_flags) | micro::kValueCacheInt8);  // the int8 value cache in a version 1 blob
  reseal(b);
  EXPECT_EQ(check(b), TM_ERR_BAD_VERSION);
  set_word(b, 4, micro::kBlobVersion);  // as version 2 it is a valid blob
  reseal(b);
  EXPECT_EQ(check(b), TM_OK);
  b = *good_;
  set_word(b, model_flags, word(b, model_flags) | (1u << 9));  // no such model flag
  reseal(b);
  EXPECT_EQ(check(b), TM_ERR_BAD_LAYOUT);
  b = *good_;
  const size_t layer_flags = word(b, offsetof(micro::BlobHeader, layers_offset));
  set_word(b, layer_flags, word(b, layer_flags) | (1u << 7));  // no such layer flag
  reseal(b);
  EXPECT_EQ(check(b), TM_ERR_BAD_LAYOUT);
}

TEST_F(BadBlob, OutOfRangeRecordsBehindAValidChecksum) {
  std::vector<uint8_t> b = *good_;
  set_word(b, kModelAt + 8, 7);  // n_head 7: 7 · 16 != 128
  reseal(b);
  EXPECT_EQ(check(b), TM_ERR_BAD_LAYOUT);
  b = *good_;
  const size_t token_embd = kModelAt + offsetof(micro::ModelRecord, token_embd);
  set_word(b, token_embd, uint32_t(b.size() - 64));  // the embedding would run past the end
  reseal(b);
  EXPECT_EQ(check(b), TM_ERR_BAD_LAYOUT);
  b = *good_;
  set_word(b, token_embd, word(b, token_embd) + 1);  // an int16 array at an odd offset
  reseal(b);
  EXPECT_EQ(check(b), TM_ERR_BAD_LAYOUT);
  b = *good_;
  const uint32_t output_weight = word(b, kModelAt + offsetof(micro::ModelRecord, output));
  b[output_weight] = 0x80;  // int8 -128: outside the symmetric range the kernels' bounds assume
  reseal(b);
  EXPECT_EQ(check(b), TM_ERR_BAD_LAYOUT);
}

TEST_F(BadBlob, MisalignedBlob) {
  Aligned a(good_->size() + 1);
  std::memcpy(a.data.get() + 1, good_->data(), good_->size());
  size_t need = 0;
  EXPECT_EQ(tm_arena_bytes(a.data.get() + 1, good_->size(), 16, &need), TM_ERR_MISALIGNED);
}

TEST_F(BadBlob, ArenaCapacityTokensAndNulls) {
  Aligned a(*good_);
  const void* blob = a.data.get();
  size_t need = 0, need_more = 0;
  ASSERT_EQ(tm_arena_bytes(blob, a.size, 4, &need), TM_OK);
  ASSERT_EQ(tm_arena_bytes(blob, a.size, 8, &need_more), TM_OK);
  EXPECT_GT(need_more, need);  // the caches grow with the capacity
  EXPECT_EQ(tm_arena_bytes(blob, a.size, 0, &need), TM_ERR_BAD_CAPACITY);
  EXPECT_EQ(tm_arena_bytes(blob, a.size, 1u << 21, &need), TM_ERR_BAD_CAPACITY);
  ASSERT_EQ(tm_arena_bytes(blob, a.size, 4, &need), TM_OK);
  std::vector<unsigned char> arena(need);
  tm_runtime* rt = nullptr;
  EXPECT_EQ(tm_init(blob, a.size, arena.data(), need - 1, 4, &rt), TM_ERR_ARENA_TOO_SMALL);
  EXPECT_EQ(rt, nullptr);
  EXPECT_EQ(tm_init(blob, a.size, nullptr, need, 4, &rt), TM_ERR_NULL_ARGUMENT);
  EXPECT_EQ(tm_init(nullptr, a.size, arena.data(), need, 4, &rt), TM_ERR_NULL_ARGUMENT);
  EXPECT_EQ(tm_arena_bytes(blob, a.size, 4, nullptr), TM_ERR_NULL_ARGUMENT);
  ASSERT_EQ(tm_init(blob, a.size, arena.data(), need, 4, &rt), TM_OK);
  EXPECT_EQ(tm_feed(rt, -1, 1), TM_ERR_BAD_TOKEN);
  EXPECT_EQ(tm_feed(rt, 263, 1), TM_ERR_BAD_TOKEN);
  EXPECT_EQ(tm_position(rt), 0u);
  for (int t = 0; t < 4; ++t) ASSERT_EQ(tm_feed(rt, t, t == 3), TM_OK);
  EXPECT_EQ(tm_feed(rt, 5, 1), TM_ERR_CONTEXT_FULL);
  EXPECT_EQ(tm_position(rt), 4u);
  EXPECT_EQ(tm_feed(nullptr, 5, 1), TM_ERR_NULL_ARGUMENT);
  EXPECT_EQ(tm_reset(rt), TM_OK);
  EXPECT_EQ(tm_feed(rt, 5, 1), TM_OK);
}

TEST(MicroStatus, EveryStatusHasItsOwnMessage) {
  std::set<std::string> seen;
  for (int s = TM_OK; s <= TM_ERR_BAD_TOKEN; ++s) {
    const std::string m = tm_status_message(s);
    EXPECT_FALSE(m.empty());
    EXPECT_NE(m, "unknown status");
    seen.insert(m);
  }
  EXPECT_EQ(seen.size(), size_t(TM_ERR_BAD_TOKEN + 1));
  EXPECT_STREQ(tm_status_message(99), "unknown status");
}

}  // namespace
}  // namespace tessera
