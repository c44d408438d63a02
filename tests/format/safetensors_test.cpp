// safetensors: files from an independent writer (tools/reference/make_safetensors_testdata.py, json + struct),
// round trips, byte layout, and one test per bad-input class (crafted here).
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "core/file_io.h"
#include "format/checkpoint.h"
#include "gguf_test_util.h"

namespace tessera {
namespace {

using json = nlohmann::json;
const std::string kData = std::string(TESSERA_TEST_DATA) + "/safetensors";

template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Every element as a double; I64 values used in the data are below 2^53, so exact.
std::vector<double> values_of(const Tensor& t) {
  std::vector<double> out;
  const size_t n = t.nbytes / dtype_size(t.dtype);
  for (size_t i = 0; i < n; ++i) {
    const std::byte* p = t.data + i * dtype_size(t.dtype);
    switch (t.dtype) {
      case DType::kF32: out.push_back(load<float>(p)); break;
      case DType::kF16: out.push_back(half_to_float(load<uint16_t>(p))); break;
      case DType::kBF16: out.push_back(std::bit_cast<float>(uint32_t(load<uint16_t>(p)) << 16)); break;
      case DType::kF64: out.push_back(load<double>(p)); break;
      case DType::kI8: out.push_back(load<int8_t>(p)); break;
      case DType::kU8: out.push_back(load<uint8_t>(p)); break;
      case DType::kI16: out.push_back(load<int16_t>(p)); break;
      case DType::kI32: out.push_back(load<int32_t>(p)); break;
      case DType::kI64: out.push_back(double(load<int64_t>(p))); break;
    }
  }
  return out;
}

json expected_json() {
  std::ifstream f(kData + "/expected.json");
  return json::parse(f);
}

void expect_matches_reference(const std::vector<Tensor>& tensors) {
  const json e = expected_json();
  ASSERT_EQ(tensors.size(), e["order"].size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, e["order"][i].get<std::string>());  // file (data) order
    const json& x = e["tensors"][t.name];
    const std::string dt = x["dtype"];
    EXPECT_EQ(std::string(dtype_name(t.dtype)), dt == "BOOL" ? "U8" : dt);
    EXPECT_EQ(t.shape, x["shape"].get<std::vector<int64_t>>());
    std::vector<double> want;
    for (const json& v : x["values"]) {
      // F32/F16/BF16 values were packed from these doubles; rounding to float gives the stored value
      // exactly (the F16/BF16 ones are exactly representable).
      want.push_back(dt == "F32" ? double(float(v.get<double>())) : v.get<double>());
    }
    EXPECT_EQ(values_of(t), want);
    if (t.nbytes) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % dtype_size(t.dtype), 0u);
    }
  }
}

TEST(Safetensors, ReadsIndependentlyWrittenFolder) {
  auto ck = read_safetensors(kData + "/model");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->format, "safetensors");
  EXPECT_EQ(ck->config["n_embd"], 8);
  EXPECT_EQ(ck->config["method"], "entmax15");
  expect_matches_reference(ck->tensors);

  auto bytes = read_file(kData + "/model/model.safetensors");
  ASSERT_TRUE(bytes.ok());
  std::map<std::string, std::string> meta;
  ASSERT_TRUE(parse_safetensors(*bytes, nullptr, "m", &meta).ok());
  EXPECT_EQ(meta, (std::map<std::string, std::string>{{"format", "pt"}, {"source", "make_safetensors_testdata.py"}}));
}

// read_safetensors reads every page of the mapped file in, reporting bytes (per 8 MiB, the file's size in
// all), and the tensors stay views of the one mapping, each right after the one before: nothing is copied.
TEST(Safetensors, ReadingReportsTheFileBytesAndKeepsTheTensorsMapped) {
  std::vector<Tensor> in;
  for (const char* name : {"t0", "t1", "t2"}) {  // 6 MiB each
    std::vector<float> v(size_t(1536) * 1024);
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(i % 1000) + float(in.size());
    in.push_back(make_f32_tensor(name, {1536, 1024}, v));
  }
  const auto file = gguf_test::scratch_dir("safetensors") / "big.safetensors";
  ASSERT_TRUE(write_safetensors(file.string(), in).ok());
  const auto size = int64_t(std::filesystem::file_size(file));

  std::vector<std::pair<int64_t, int64_t>> calls;
  auto ck = read_safetensors(file.string(), [&](int64_t done, int64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  ASSERT_GE(calls.size(), 3u);  // 8 MiB, 16 MiB, the end
  EXPECT_EQ(calls.back(), std::make_pair(size, size));
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, size);
    EXPECT_GE(calls[i].first, i > 0 ? calls[i - 1].first : 0);
  }
  ASSERT_EQ(ck->tensors.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const Tensor& t = ck->tensors[i];
    ASSERT_EQ(t.nbytes, in[i].nbytes) << t.name;
    EXPECT_EQ(std::memcmp(t.data, in[i].data, t.nbytes), 0) << t.name;
    if (i == 0) continue;
    EXPECT_EQ(t.owner, ck->tensors[0].owner) << t.name;
    EXPECT_EQ(t.data, ck->tensors[i - 1].data + ck->tensors[i - 1].nbytes) << t.name;
  }
  std::filesystem::remove(file);  // 18 MiB: not left in the build tree
}

TEST(Safetensors, ReadsUnpaddedHeaderByCopyingMisalignedData) {
  auto ck = read_safetensors(kData + "/unaligned.safetensors");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_TRUE(ck->config.empty());  // no config.json beside it
  expect_matches_reference(ck->tensors);
}

TEST(Safetensors, EveryTruncationOfTheReferenceFileFails) {
  auto bytes = read_file(kData + "/model/model.safetensors");
  ASSERT_TRUE(bytes.ok());
  for (size_t n = 0; n < bytes->size(); ++n) {
    auto r = parse_safetensors(std::span(*bytes).first(n), nullptr, "cut");
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruptFile) << r.status().to_string();
  }
}

TEST(Safetensors, RoundTripEveryDtypeAndRankDeterministically) {
  std::vector<Tensor> in;
  const std::vector<DType> dtypes = {DType::kF32, DType::kF16, DType::kBF16, DType::kF64, DType::kI8,
                                     DType::kI16, DType::kI32, DType::kI64,  DType::kU8};
  const std::vector<std::vector<int64_t>> shapes = {{}, {5}, {2, 3}, {2, 1, 3}, {1, 2, 3, 2}};
  uint8_t next = 1;
  for (DType dt : dtypes)
    for (const auto& s : shapes) {
      int64_t n = 1;
      for (int64_t d : s) n *= d;
      std::vector<std::byte> b(size_t(n) * dtype_size(dt));
      for (auto& x : b) x = std::byte(next += 37);
      in.push_back(make_owned_tensor(std::string(dtype_name(dt)) + "_" + std::to_string(s.size()), dt, s, b));
    }
  auto dir = gguf_test::scratch_dir("safetensors");
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "\xce\xb1"}};
  ASSERT_TRUE(write_safetensors((dir / "a.safetensors").string(), in, meta).ok());
  ASSERT_TRUE(write_safetensors((dir / "b.safetensors").string(), in, meta).ok());
  const auto a = gguf_test::read_bytes(dir / "a.safetensors");
  EXPECT_EQ(a, gguf_test::read_bytes(dir / "b.safetensors"));
  EXPECT_EQ(load<uint64_t>(a.data()) % 8, 0u);  // data 8-byte aligned

  std::map<std::string, std::string> got_meta;
  auto out = parse_safetensors(a, nullptr, "a", &got_meta);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(got_meta, meta);
  ASSERT_EQ(out->size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ((*out)[i].name, in[i].name);  // data in input order
    EXPECT_EQ((*out)[i].dtype, in[i].dtype);
    EXPECT_EQ((*out)[i].shape, in[i].shape);
    ASSERT_EQ((*out)[i].nbytes, in[i].nbytes);
    EXPECT_EQ(std::memcmp((*out)[i].data, in[i].data, in[i].nbytes), 0);
  }
}

TEST(Safetensors, WriterBytesMatchHandBuiltFile) {
  auto dir = gguf_test::scratch_dir("safetensors");
  const float v[2] = {1.0f, -2.0f};
  ASSERT_TRUE(write_safetensors((dir / "x.safetensors").string(), {make_f32_tensor("a", {2}, v)}, {{"k", "v"}}).ok());
  std::string header = R"({"__metadata__":{"k":"v"},"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}})";
  header.resize((header.size() + 7) / 8 * 8, ' ');
  gguf_test::Bytes e;
  e.u64(header.size());
  for (char c : header) e.b.push_back(std::byte(c));
  e.raw(1.0f).raw(-2.0f);
  EXPECT_EQ(gguf_test::read_bytes(dir / "x.safetensors"), e.b);
}

// A file from `header` text and `data_size` zero bytes.
std::vector<std::byte> file_of(const std::string& header, size_t data_size) {
  gguf_test::Bytes b;
  b.u64(header.size());
  for (char c : header) b.b.push_back(std::byte(c));
  return b.zeros(data_size).b;
}

void expect_error(const std::vector<std::byte>& bytes, StatusCode code, std::vector<std::string> parts) {
  auto r = parse_safetensors(bytes, nullptr, "bad.safetensors");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  const std::string& m = r.status().message();
  EXPECT_EQ(m.rfind("bad.safetensors: ", 0), 0u) << m;
  for (const auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
}

TEST(SafetensorsBadInput, HeaderLength) {
  expect_error(std::vector<std::byte>(5), StatusCode::kCorruptFile, {"header length: expected 8 bytes, found 5"});
  auto b = file_of("{}", 0);
  b[0] = std::byte(200);
  expect_error(b, StatusCode::kCorruptFile, {"header length: expected at most the 2 bytes after it", "found 200"});
  gguf_test::Bytes huge;
  huge.u64(uint64_t(1) << 40);
  expect_error(huge.b, StatusCode::kCorruptFile, {"header length: expected at most 100000000"});
}

TEST(SafetensorsBadInput, BadJson) {
  expect_error(file_of(R"({"a": {"dtype": "F32",)", 0), StatusCode::kCorruptFile, {"header: expected valid JSON"});
  expect_error(file_of("[1, 2]", 0), StatusCode::kCorruptFile, {"header: expected a JSON object, found array"});
  expect_error(file_of(R"({"a": 1, "a": 2})", 0), StatusCode::kCorruptFile, {"duplicate key \"a\""});
  expect_error(file_of(std::string(100, '[') + std::string(100, ']'), 0), StatusCode::kCorruptFile,
               {"nesting deeper than 64"});
  expect_error(file_of("{\"\xff\": 1}", 0), StatusCode::kCorruptFile, {"header: expected valid JSON"});
}

TEST(SafetensorsBadInput, BadTensorEntries) {
  expect_error(file_of(R"({"w": 3})", 0), StatusCode::kCorruptFile, {"tensor 'w': expected an object"});
  expect_error(file_of(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", 4), StatusCode::kCorruptFile,
               {"tensor 'w' dtype: expected a string, found none"});
  expect_error(file_of(R"({"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}})", 1),
               StatusCode::kUnsupported, {"tensor 'w' dtype", "found F8_E4M3"});
  expect_error(file_of(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4),
               StatusCode::kCorruptFile, {"tensor 'w' shape: expected non-negative integers, found [-1]"});
  expect_error(file_of(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", 4),
               StatusCode::kCorruptFile, {"tensor 'w' shape"});
  expect_error(file_of(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})", 4),
               StatusCode::kCorruptFile, {"tensor 'w' shape: expected a byte size that fits in 64 bits"});
  expect_error(file_of(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4), StatusCode::kCorruptFile,
               {"tensor 'w' data_offsets: expected [begin, end]"});
  expect_error(file_of(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", 4), StatusCode::kCorruptFile,
               {"tensor 'w' data_offsets: expected begin <= end"});
  expect_error(file_of(R"({"__metadata__": {"k": 1}})", 0), StatusCode::kCorruptFile,
               {"__metadata__ 'k': expected a string, found number"});
}

TEST(SafetensorsBadInput, SizeMismatchWithShapeTimesDtype) {
  expect_error(file_of(R"({"w": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 24]}})", 24),
               StatusCode::kCorruptFile, {"tensor 'w' data_offsets: expected 12 bytes", "found 24 bytes"});
}

TEST(SafetensorsBadInput, OutOfRangeOffsets) {
  expect_error(file_of(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 7), StatusCode::kCorruptFile,
               {"tensor 'w' data_offsets: expected within the 7 data bytes, found [0,8]"});
}

TEST(SafetensorsBadInput, OverlapsHolesAndTrailingBytes) {
  auto with = [](int b, int e) {
    return R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
               "b": {"dtype": "F32", "shape": [2], "data_offsets": [)" +
           std::to_string(b) + ", " + std::to_string(e) + "]}}";
  };
  expect_error(file_of(with(4, 12), 12), StatusCode::kCorruptFile,
               {"tensor 'b' data_offsets: expected begin 8, found 4 (overlaps"});
  expect_error(file_of(with(12, 20), 20), StatusCode::kCorruptFile,
               {"tensor 'b' data_offsets: expected begin 8, found 12 (a hole"});
  expect_error(file_of(with(8, 16), 17), StatusCode::kCorruptFile,
               {"data section: expected 16 bytes (the end of the last tensor), found 17"});
  auto ok = parse_safetensors(file_of(with(8, 16), 16), nullptr, "ok");
  EXPECT_TRUE(ok.ok()) << ok.status().to_string();
}

TEST(SafetensorsBadInput, FolderProblems) {
  auto dir = gguf_test::scratch_dir("safetensors");
  auto r = read_safetensors(dir.string());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("model.safetensors"), std::string::npos);
  // An index makes it a sharded folder (tests/model/convert_hf_test.cpp has the full cases); an empty one is corrupt.
  gguf_test::write_bytes(dir / "model.safetensors.index.json", {});
  r = read_safetensors(dir.string());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptFile);
  EXPECT_NE(r.status().message().find("model.safetensors.index.json: expected valid JSON"), std::string::npos)
      << r.status().message();

  gguf_test::write_bytes(dir / "model.safetensors", gguf_test::read_bytes(kData + "/model/model.safetensors"));
  std::ofstream(dir / "config.json") << "{\"n_embd\": 8,";
  r = read_safetensors(dir.string());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptFile);
  EXPECT_NE(r.status().message().find("config.json: expected valid JSON"), std::string::npos) << r.status().message();
  std::ofstream(dir / "config.json") << "[8]";
  r = read_safetensors(dir.string());
  EXPECT_NE(r.status().message().find("config.json: expected a JSON object"), std::string::npos)
      << r.status().message();
}

TEST(SafetensorsWriter, RejectsBadTensorsAndLeavesNoPartialFile) {
  auto dir = gguf_test::scratch_dir("safetensors");
  const float v[2] = {1, 2};
  const auto path = (dir / "m.safetensors").string();
  Status st = write_safetensors(path, {make_f32_tensor("a", {2}, v), make_f32_tensor("a", {2}, v)});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("tensor 'a': expected each name once"), std::string::npos) << st.message();
  st = write_safetensors(path, {make_f32_tensor("short", {3}, v)});
  EXPECT_NE(st.message().find("tensor 'short' bytes: expected 12, found 8"), std::string::npos) << st.message();
  st = write_safetensors(path, {make_f32_tensor("__metadata__", {2}, v)});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  st = write_safetensors((dir / "no-such-folder" / "m.safetensors").string(), {make_f32_tensor("a", {2}, v)});
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

}  // namespace
}  // namespace tessera
