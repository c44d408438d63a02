// Hostile and broken GGUF files, crafted byte by byte: each must give the right StatusCode and a
// message naming the file and the field, never a crash or a huge allocation.
#include <gtest/gtest.h>

#include "format/gguf.h"
#include "gguf_test_util.h"

namespace tessera::gguf {
namespace {

using gguf_test::Bytes;

// Parses `b` and checks the code and that the message holds the file name and every `parts`.
void expect_error(const Bytes& b, StatusCode code, std::vector<std::string> parts) {
  auto f = File::parse(b.b, nullptr, "bad.gguf");
  ASSERT_FALSE(f.ok()) << "parsed a broken file";
  EXPECT_EQ(f.status().code(), code) << f.status().to_string();
  const std::string& m = f.status().message();
  EXPECT_EQ(m.rfind("bad.gguf: ", 0), 0u) << m;
  for (const auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
}

// A valid file with one F32 [2, 3] tensor "w" (dims stored 3, 2) at alignment 32.
Bytes one_tensor(uint64_t offset = 0, std::vector<uint64_t> dims = {3, 2}, uint32_t type = 0) {
  Bytes b;
  b.header(1, 1).kv_u32("general.alignment", 32).tensor_info("w", dims, type, offset).pad_to(32).zeros(24 + offset);
  return b;
}

TEST(GgufBadInput, ValidBaselineParses) {
  auto f = File::parse(one_tensor().b, nullptr, "ok.gguf");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->tensors()[0].shape, (std::vector<int64_t>{2, 3}));
}

TEST(GgufBadInput, WrongMagic) {
  Bytes b = one_tensor();
  b.b[0] = std::byte('X');
  expect_error(b, StatusCode::kCorruptFile, {"magic: expected \"GGUF\"", "found \"XGUF\""});
}

TEST(GgufBadInput, WrongVersion) {
  Bytes b;
  b.header(0, 0, 2);
  expect_error(b, StatusCode::kUnsupported, {"version: expected 3, found 2"});
  Bytes be;
  be.header(0, 0, 0x03000000);
  expect_error(be, StatusCode::kUnsupported, {"version", "big-endian"});
}

TEST(GgufBadInput, EmptyAndTruncatedHeader) {
  expect_error(Bytes{}, StatusCode::kCorruptFile, {"magic"});
  Bytes b;
  b.header(0, 0);
  b.b.resize(12);
  expect_error(b, StatusCode::kCorruptFile, {"tensor count", "truncated"});
}

TEST(GgufBadInput, EveryTruncationOfAValidFileFails) {
  const Bytes full = one_tensor();
  const size_t data_end = full.size();  // the tensor's last byte is the file's last byte
  for (size_t n = 0; n < data_end; ++n) {
    auto f = File::parse(std::span(full.b).first(n), nullptr, "cut.gguf");
    ASSERT_FALSE(f.ok()) << "prefix " << n;
    EXPECT_EQ(f.status().code(), StatusCode::kCorruptFile) << f.status().to_string();
  }
}

TEST(GgufBadInput, AbsurdCounts) {
  Bytes t;
  t.header(uint64_t(1) << 60, 0).zeros(64);
  expect_error(t, StatusCode::kCorruptFile, {"tensor count: expected at most 2", "found 1152921504606846976"});
  Bytes k;
  k.header(0, uint64_t(1) << 62).zeros(64);
  expect_error(k, StatusCode::kCorruptFile, {"metadata kv count: expected at most 4"});
}

TEST(GgufBadInput, AbsurdStringLengths) {
  Bytes key;
  key.header(0, 1).u64(uint64_t(1) << 40).zeros(32);
  expect_error(key, StatusCode::kCorruptFile, {"metadata kv #0 key length: expected at most 65535 bytes"});
  Bytes val;
  val.header(0, 1).str("k").u32(8).u64(1000).zeros(16);
  expect_error(val, StatusCode::kCorruptFile, {"key 'k' length: expected at most the 16 bytes left", "found 1000"});
  Bytes name;
  name.header(1, 0).str(std::string(65, 'n')).u32(1).u64(1).u32(0).u64(0).zeros(64);
  expect_error(name, StatusCode::kCorruptFile, {"tensor #0 name length: expected at most 64 bytes, found 65"});
}

TEST(GgufBadInput, AbsurdArrayLength) {
  Bytes b;
  b.header(0, 1).str("arr").u32(9).u32(6).u64(uint64_t(1) << 40).zeros(40);
  expect_error(b, StatusCode::kCorruptFile, {"key 'arr' length: expected at most 10 elements", "found 1099511627776"});
}

TEST(GgufBadInput, TooManyArrayElementsInTotal) {
  // Two u8 arrays, each within the file, together one element over kMaxArrayElements.
  const uint64_t half = kMaxArrayElements / 2;
  Bytes b;
  b.header(0, 2).str("a").u32(9).u32(0).u64(half).zeros(size_t(half));
  b.str("b").u32(9).u32(0).u64(half + 1).zeros(size_t(half + 1));
  expect_error(b, StatusCode::kUnsupported,
               {"key 'b' length: expected at most 4194304 array elements in a file", "found 4194305"});
}

TEST(GgufBadInput, NestedArrayTooDeep) {
  Bytes b;  // array of arrays of arrays of u8
  b.header(0, 1).str("deep").u32(9).u32(9).u64(1).u32(9).u64(1).u32(0).u64(1).u8(1);
  expect_error(b, StatusCode::kCorruptFile, {"key 'deep'[0][0]: expected arrays nested at most 2 deep"});
}

TEST(GgufBadInput, UnknownValueTypes) {
  Bytes b;
  b.header(0, 1).str("k").u32(13).u32(0);
  expect_error(b, StatusCode::kCorruptFile, {"key 'k' value type: expected a GGUF value type 0..12, found 13"});
  Bytes e;
  e.header(0, 1).str("k").u32(9).u32(77).u64(0);
  expect_error(e, StatusCode::kCorruptFile, {"key 'k' element type", "found 77"});
  Bytes bl;
  bl.header(0, 1).str("flag").u32(7).u8(2);
  expect_error(bl, StatusCode::kCorruptFile, {"key 'flag': expected a bool (0 or 1), found 2"});
}

TEST(GgufBadInput, DuplicateKeysAndNames) {
  Bytes k;
  k.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2);
  expect_error(k, StatusCode::kCorruptFile, {"key 'a.b': expected each key once, found a duplicate"});
  Bytes t;
  t.header(2, 0).tensor_info("w", {2}, 0, 0).tensor_info("w", {2}, 0, 32).pad_to(32).zeros(64);
  expect_error(t, StatusCode::kCorruptFile, {"tensor 'w' name: expected each tensor name once"});
  Bytes empty;
  empty.header(0, 1).kv_u32("", 1);
  expect_error(empty, StatusCode::kCorruptFile, {"metadata kv #0 key: expected a non-empty key"});
}

TEST(GgufBadInput, BadAlignmentKey) {
  Bytes t;
  t.header(0, 1).kv_str("general.alignment", "256");
  expect_error(t, StatusCode::kCorruptFile, {"key 'general.alignment': expected type u32, found string"});
  Bytes p;
  p.header(0, 1).kv_u32("general.alignment", 48);
  expect_error(p, StatusCode::kCorruptFile, {"key 'general.alignment': expected a power of two, found 48"});
  Bytes z;
  z.header(0, 1).kv_u32("general.alignment", 0);
  expect_error(z, StatusCode::kCorruptFile, {"power of two, found 0"});
  // A power of two the file is far too short for: its data section would start 512 MiB in (rewriting
  // such a file would pad its header to that size).
  Bytes huge;
  huge.header(0, 1).kv_u32("general.alignment", 1u << 29);
  expect_error(huge, StatusCode::kCorruptFile,
               {"data section: expected a start within the file", "found offset 536870912"});
}

TEST(GgufBadInput, UnknownOrQuantizedTensorType) {
  expect_error(one_tensor(0, {3, 2}, 99), StatusCode::kCorruptFile, {"tensor 'w' type", "found 99 (not a GGML type)"});
  expect_error(one_tensor(0, {3, 2}, 2), StatusCode::kUnsupported, {"tensor 'w' type", "found 2 (a quantized"});
}

TEST(GgufBadInput, TooManyDims) {
  Bytes b;
  b.header(1, 0).tensor_info("w", {1, 1, 1, 1, 1}, 0, 0).pad_to(32).zeros(32);
  expect_error(b, StatusCode::kCorruptFile, {"tensor 'w' n_dims: expected at most 4, found 5"});
}

TEST(GgufBadInput, DimsProductOverflow) {
  Bytes b;
  b.header(1, 0).tensor_info("w", {uint64_t(1) << 32, uint64_t(1) << 31}, 0, 0).pad_to(32).zeros(32);
  expect_error(b, StatusCode::kCorruptFile, {"tensor 'w' dimensions: expected a byte size that fits in 64 bits"});
  Bytes neg;
  neg.header(1, 0).tensor_info("w", {~uint64_t(0)}, 0, 0).pad_to(32).zeros(32);
  expect_error(neg, StatusCode::kCorruptFile, {"tensor 'w' dimension 0: expected at most 2^63-1"});
}

TEST(GgufBadInput, MisalignedOffset) {
  expect_error(one_tensor(8), StatusCode::kCorruptFile,
               {"tensor 'w' offset: expected a multiple of the alignment 32, found 8"});
}

TEST(GgufBadInput, TensorPastTheEndOfTheFile) {
  Bytes b = one_tensor();
  b.b.resize(b.size() - 1);
  expect_error(b, StatusCode::kCorruptFile, {"tensor 'w' offset: expected data within the file"});
  // An offset so large that offset + size overflows 64 bits.
  Bytes huge;
  huge.header(1, 1).kv_u32("general.alignment", 32).tensor_info("w", {2}, 0, ~uint64_t(31)).pad_to(32).zeros(32);
  expect_error(huge, StatusCode::kCorruptFile, {"tensor 'w' offset: expected data within the file"});
}

TEST(GgufBadInput, OverlappingTensors) {
  Bytes b;  // "a" is 64 bytes at 0, "b" starts at 32
  b.header(2, 1).kv_u32("general.alignment", 32).tensor_info("a", {16}, 0, 0).tensor_info("b", {8}, 0, 32);
  b.pad_to(32).zeros(96);
  expect_error(b, StatusCode::kCorruptFile,
               {"tensor 'b' offset: expected at least 64 (the end of tensor 'a')", "overlap"});
}

TEST(GgufBadInput, MissingFile) {
  auto f = File::open("/nonexistent/model.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_NE(f.status().message().find("/nonexistent/model.gguf"), std::string::npos);
}

}  // namespace
}  // namespace tessera::gguf
