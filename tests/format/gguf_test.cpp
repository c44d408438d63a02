// GGUF round trips, byte layout against a hand-built file, determinism, and writer errors.
// Bad-input reading is in gguf_bad_input_test.cpp.
#include "format/gguf.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <random>

#include "gguf_test_util.h"

namespace tessera::gguf {
namespace {

using gguf_test::Bytes;

Value scalar(ValueType t, std::variant<uint64_t, int64_t, double, bool, std::string, Array> d) {
  Value v;
  v.type = t;
  v.data = std::move(d);
  return v;
}

Value array(ValueType elem, Array items) {
  Value v;
  v.type = ValueType::kArray;
  v.array_type = elem;
  v.data = std::move(items);
  return v;
}

std::vector<std::byte> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> b(n);
  for (auto& x : b) x = std::byte(rng() & 0xff);
  return b;
}

TEST(Gguf, RoundTripEveryValueType) {
  Writer w;
  w.set_string("general.architecture", "memory-mosaics");
  w.set(std::string("t.u8"), scalar(ValueType::kU8, uint64_t(250)));
  w.set(std::string("t.i8"), scalar(ValueType::kI8, int64_t(-120)));
  w.set(std::string("t.u16"), scalar(ValueType::kU16, uint64_t(65000)));
  w.set(std::string("t.i16"), scalar(ValueType::kI16, int64_t(-32000)));
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", -2000000000);
  w.set_u64("t.u64", 18000000000000000000ull);
  w.set(std::string("t.i64"), scalar(ValueType::kI64, int64_t(-9000000000000000000ll)));
  w.set_f32("t.f32", 0.1f);
  w.set_f64("t.f64", 0.1);
  w.set_bool("t.bool", true);
  w.set_bool("t.bool_false", false);
  w.set_string("t.string", std::string("utf-8 \xce\xb1 and a \0 byte", 22));
  w.set_string("t.empty", "");
  w.set_string_array("t.strings", {"a", "", "longer string"});
  w.set_f32_array("t.f32s", {1.5f, -2.25f, 3e-8f});
  w.set_i32_array("t.i32s", {1, -2, 2147483647});
  w.set(std::string("t.u8s"),
        array(ValueType::kU8, {scalar(ValueType::kU8, uint64_t(0)), scalar(ValueType::kU8, uint64_t(255))}));
  w.set(std::string("t.f64s"), array(ValueType::kF64, {scalar(ValueType::kF64, 1e300)}));
  w.set(std::string("t.bools"),
        array(ValueType::kBool, {scalar(ValueType::kBool, true), scalar(ValueType::kBool, false)}));
  w.set(std::string("t.empty_array"), array(ValueType::kI64, {}));
  w.set(std::string("t.nested"),
        array(ValueType::kArray, {array(ValueType::kU16, {scalar(ValueType::kU16, uint64_t(7))}),
                                  array(ValueType::kString, {scalar(ValueType::kString, std::string("x"))})}));
  auto dir = gguf_test::scratch_dir("gguf");
  const std::string path = (dir / "values.gguf").string();
  ASSERT_TRUE(w.write(path).ok());
  auto f = File::open(path);
  ASSERT_TRUE(f.ok()) << f.status().to_string();

  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 256u);
  EXPECT_EQ(f->get_int("general.alignment").value(), 256);  // added by the writer
  EXPECT_EQ(f->get_string("general.architecture").value(), "memory-mosaics");
  EXPECT_EQ(f->get_int("t.u8").value(), 250);
  EXPECT_EQ(f->get_int("t.i8").value(), -120);
  EXPECT_EQ(f->get_int("t.u16").value(), 65000);
  EXPECT_EQ(f->get_int("t.i16").value(), -32000);
  EXPECT_EQ(f->get_int("t.u32").value(), 4000000000ll);
  EXPECT_EQ(f->get_int("t.i32").value(), -2000000000);
  EXPECT_EQ(std::get<uint64_t>(f->metadata().at("t.u64").data), 18000000000000000000ull);
  EXPECT_EQ(f->get_int("t.u64").status().code(), StatusCode::kOutOfRange);  // does not fit int64
  EXPECT_EQ(f->get_int("t.i64").value(), -9000000000000000000ll);
  EXPECT_EQ(f->get_float("t.f32").value(), double(0.1f));  // stored as f32: exactly the float nearest 0.1
  EXPECT_EQ(f->get_float("t.f64").value(), 0.1);
  EXPECT_EQ(f->get_float("t.u32").value(), 4e9);  // integers widen to float
  EXPECT_TRUE(f->get_bool("t.bool").value());
  EXPECT_FALSE(f->get_bool("t.bool_false").value());
  EXPECT_EQ(f->get_string("t.string").value(), std::string("utf-8 \xce\xb1 and a \0 byte", 22));
  EXPECT_EQ(f->get_string("t.empty").value(), "");
  EXPECT_EQ(f->get_string_array("t.strings").value(), (std::vector<std::string>{"a", "", "longer string"}));
  EXPECT_EQ(f->get_float_array("t.f32s").value(), (std::vector<double>{1.5, -2.25, double(3e-8f)}));
  EXPECT_EQ(f->get_int_array("t.i32s").value(), (std::vector<int64_t>{1, -2, 2147483647}));
  EXPECT_EQ(f->get_int_array("t.u8s").value(), (std::vector<int64_t>{0, 255}));
  EXPECT_EQ(f->get_float_array("t.f64s").value(), (std::vector<double>{1e300}));
  EXPECT_TRUE(f->get_int_array("t.empty_array").value().empty());
  const Value& bools = f->metadata().at("t.bools");
  ASSERT_EQ(bools.array_type, ValueType::kBool);
  EXPECT_TRUE(std::get<bool>(std::get<Array>(bools.data)[0].data));
  EXPECT_FALSE(std::get<bool>(std::get<Array>(bools.data)[1].data));
  const Value& nested = f->metadata().at("t.nested");
  ASSERT_EQ(nested.array_type, ValueType::kArray);
  const Array& outer = std::get<Array>(nested.data);
  ASSERT_EQ(outer.size(), 2u);
  EXPECT_EQ(outer[0].array_type, ValueType::kU16);
  EXPECT_EQ(std::get<uint64_t>(std::get<Array>(outer[0].data)[0].data), 7u);
  EXPECT_EQ(std::get<std::string>(std::get<Array>(outer[1].data)[0].data), "x");
  EXPECT_EQ(f->metadata().size(), 24u);
}

TEST(Gguf, GetterErrorsNameKeyExpectedAndFound) {
  Writer w;
  w.set_string("s", "text");
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok());
  auto f = File::parse(*bytes, nullptr, "mem.gguf");
  ASSERT_TRUE(f.ok());
  auto i = f->get_int("s");
  EXPECT_EQ(i.status().code(), StatusCode::kCorruptFile);
  EXPECT_EQ(i.status().message(), "mem.gguf: key 's': expected an integer, found string");
  auto missing = f->get_string("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  EXPECT_EQ(f->get_string_array("s").status().code(), StatusCode::kCorruptFile);
}

TEST(Gguf, RoundTripTensorsOfEveryDtypeAndRank) {
  const std::vector<DType> dtypes = {DType::kF32, DType::kF16, DType::kBF16, DType::kF64,
                                     DType::kI8,  DType::kI16, DType::kI32,  DType::kI64};
  const std::vector<std::vector<int64_t>> shapes = {{7}, {3, 5}, {2, 3, 4}, {2, 1, 3, 5}};
  Writer w;
  std::vector<Tensor> in;
  uint32_t seed = 1;
  for (DType dt : dtypes)
    for (const auto& shape : shapes) {
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      in.push_back(make_owned_tensor(std::string(dtype_name(dt)) + ".r" + std::to_string(shape.size()), dt, shape,
                                     random_bytes(size_t(n) * dtype_size(dt), seed++)));
      ASSERT_TRUE(w.add_tensor(in.back()).ok());
    }
  auto dir = gguf_test::scratch_dir("gguf");
  const auto path = dir / "tensors.gguf";
  ASSERT_TRUE(w.write(path.string()).ok());
  auto f = File::open(path.string());
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  ASSERT_EQ(f->tensors().size(), in.size());
  EXPECT_EQ(f->data_section_offset() % 256, 0u);
  EXPECT_EQ(std::filesystem::file_size(path) % 256, 0u);  // the last tensor is padded too
  for (size_t i = 0; i < in.size(); ++i) {
    const Tensor& t = f->tensors()[i];
    SCOPED_TRACE(in[i].name);
    EXPECT_EQ(t.name, in[i].name);
    EXPECT_EQ(t.dtype, in[i].dtype);
    EXPECT_EQ(t.shape, in[i].shape);
    ASSERT_EQ(t.nbytes, in[i].nbytes);
    EXPECT_EQ(std::memcmp(t.data, in[i].data, t.nbytes), 0);
    EXPECT_EQ(f->tensor_offsets()[i] % 256, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 256, 0u);  // mmap is page-aligned, offsets 256-aligned
    EXPECT_EQ(f->find_tensor(in[i].name), &t);
  }
  EXPECT_EQ(f->find_tensor("absent"), nullptr);
}

TEST(Gguf, ReleasedPagesLeaveResidentMemoryAndReadBackUnchanged) {
  // A 4 MiB tensor of an opened (mapped) file: after release_pages the process's resident set shrinks
  // by about its size (/proc/self/statm), and reading it again faults the same bytes back in.
  const size_t n = size_t(4) << 20;
  const auto bytes = random_bytes(n, 7);
  Writer w;
  ASSERT_TRUE(w.add_tensor(make_owned_tensor("big", DType::kI8, {int64_t(n)}, bytes)).ok());
  const auto path = gguf_test::scratch_dir("gguf") / "release.gguf";
  ASSERT_TRUE(w.write(path.string()).ok());
  auto f = File::open(path.string());
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  const Tensor* t = f->find_tensor("big");
  ASSERT_NE(t, nullptr);
  auto resident_pages = [] {
    std::ifstream statm("/proc/self/statm");
    size_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident;
  };
  ASSERT_EQ(std::memcmp(t->data, bytes.data(), n), 0);  // every page touched
  const size_t before = resident_pages(), pages = n / size_t(sysconf(_SC_PAGESIZE));
  f->release_pages(t->data, n);
  const size_t after = resident_pages();
  EXPECT_GE(before, after + pages * 9 / 10) << "resident pages " << before << " -> " << after;
  EXPECT_EQ(std::memcmp(t->data, bytes.data(), n), 0);
  // Outside the mapping: a no-op (a heap buffer keeps its bytes).
  std::vector<std::byte> heap(bytes);
  f->release_pages(heap.data(), heap.size());
  EXPECT_EQ(heap, bytes);
}

// The writer's bytes equal a file assembled by hand from the spec: dims innermost-first,
// general.alignment appended, zero padding to 256 after the infos and after each tensor.
TEST(Gguf, BytesMatchHandBuiltFile) {
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  const std::vector<uint16_t> b = {0x3c00, 0xc000};  // F16 1.0, -2.0
  Writer w;
  w.set_string("general.architecture", "memory-mosaics");
  ASSERT_TRUE(w.add_tensor(make_f32_tensor("a", {2, 3}, a)).ok());
  std::vector<std::byte> bb(4);
  std::memcpy(bb.data(), b.data(), 4);
  ASSERT_TRUE(w.add_tensor(make_owned_tensor("b", DType::kF16, {2}, bb)).ok());
  auto got = w.serialize();
  ASSERT_TRUE(got.ok());

  Bytes e;
  e.header(2, 2).kv_str("general.architecture", "memory-mosaics").kv_u32("general.alignment", 256);
  e.tensor_info("a", {3, 2}, 0, 0).tensor_info("b", {2}, 1, 256).pad_to(256);
  for (float x : a) e.raw(x);
  e.pad_to(256);
  for (uint16_t x : b) e.raw(x);
  e.pad_to(256);
  EXPECT_EQ(*got, e.b);
}

TEST(Gguf, WriterIsDeterministic) {
  auto build = [] {
    Writer w;
    w.set_string("general.architecture", "memory-mosaics");
    w.set_u32("memory-mosaics.block_count", 2);
    w.set_f32_array("x", {1.f, 2.f});
    std::vector<float> v(1000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) * 0.5f;
    EXPECT_TRUE(w.add_tensor(make_f32_tensor("t0", {10, 100}, v)).ok());
    EXPECT_TRUE(w.add_tensor(make_f32_tensor("t1", {1000}, v)).ok());
    return w;
  };
  auto dir = gguf_test::scratch_dir("gguf");
  ASSERT_TRUE(build().write((dir / "one.gguf").string()).ok());
  ASSERT_TRUE(build().write((dir / "two.gguf").string()).ok());
  const auto one = gguf_test::read_bytes(dir / "one.gguf");
  EXPECT_EQ(one, gguf_test::read_bytes(dir / "two.gguf"));
  EXPECT_EQ(one, build().serialize().value());
  EXPECT_GT(one.size(), 8000u);
}

TEST(Gguf, SettingAKeyAgainReplacesItInPlace) {
  Writer w;
  w.set_u32("a", 1);
  w.set_u32("b", 2);
  w.set_u32("a", 3);
  const std::vector<std::byte> bytes = w.serialize().value();
  auto f = File::parse(bytes, nullptr, "mem");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->get_int("a").value(), 3);
  EXPECT_EQ(f->metadata().size(), 3u);  // a, b, general.alignment
}

TEST(Gguf, ScalarTensorIsWrittenWithOneDimension) {
  Writer w;
  const float x = 2.5f;
  ASSERT_TRUE(w.add_tensor(make_f32_tensor("s", {}, std::span<const float>(&x, 1))).ok());
  const std::vector<std::byte> bytes = w.serialize().value();  // the parsed tensors view these bytes
  auto f = File::parse(bytes, nullptr, "mem");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->tensors()[0].shape, (std::vector<int64_t>{1}));
  EXPECT_EQ(f->tensors()[0].as<float>()[0], 2.5f);
}

TEST(Gguf, WriterRejectsTensorsGgufCannotHold) {
  Writer w;
  auto u8 = make_owned_tensor("u8", DType::kU8, {2}, std::vector<std::byte>(2));
  Status st = w.add_tensor(u8);
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("tensor 'u8' dtype"), std::string::npos) << st.message();
  std::vector<float> v(32);
  st = w.add_tensor(make_f32_tensor("five", {2, 2, 2, 2, 2}, v));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("tensor 'five' shape"), std::string::npos) << st.message();
  st = w.add_tensor(make_f32_tensor(std::string(64, 'n'), {2}, std::span<const float>(v).first(2)));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("name: expected at most 63 bytes, found 64"), std::string::npos) << st.message();
  st = w.add_tensor(make_f32_tensor("short", {3}, std::span<const float>(v).first(2)));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("tensor 'short' bytes: expected 12"), std::string::npos) << st.message();
  ASSERT_TRUE(w.add_tensor(make_f32_tensor("dup", {2}, std::span<const float>(v).first(2))).ok());
  st = w.add_tensor(make_f32_tensor("dup", {2}, std::span<const float>(v).first(2)));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("duplicate"), std::string::npos) << st.message();
}

TEST(Gguf, FailedWriteLeavesNoFileAndKeepsTheOldOne) {
  auto dir = gguf_test::scratch_dir("gguf");
  // An unwritable destination (the folder does not exist).
  Writer good;
  good.set_u32("k", 1);
  Status st = good.write((dir / "missing-folder" / "x.gguf").string());
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("missing-folder/x.gguf"), std::string::npos) << st.message();
  EXPECT_FALSE(std::filesystem::exists(dir / "missing-folder"));

  // A value that fails to encode: the previous file stays byte-identical and no temp file remains.
  const auto path = dir / "model.gguf";
  ASSERT_TRUE(good.write(path.string()).ok());
  const auto before = gguf_test::read_bytes(path);
  Writer bad;
  bad.set(std::string("bad.i8"), scalar(ValueType::kI8, int64_t(300)));
  st = bad.write(path.string());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("key 'bad.i8'"), std::string::npos) << st.message();
  EXPECT_EQ(gguf_test::read_bytes(path), before);
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);

  Writer wrong_alignment(256);
  wrong_alignment.set_u32("general.alignment", 64);
  EXPECT_EQ(wrong_alignment.serialize().status().code(), StatusCode::kInvalidArgument);
  Writer mixed;
  mixed.set(std::string("m"), array(ValueType::kU8, {scalar(ValueType::kI8, int64_t(1))}));
  EXPECT_EQ(mixed.serialize().status().code(), StatusCode::kInvalidArgument);
}

TEST(Gguf, ReadsDefaultAlignment32WhenTheKeyIsAbsent) {
  Bytes b;
  b.header(1, 1).kv_str("general.architecture", "x").tensor_info("w", {2}, 0, 0).pad_to(32);
  const size_t data = b.size();
  b.raw(1.5f).raw(-3.0f);
  auto f = File::parse(b.b, nullptr, "mem");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->data_section_offset(), data);
  EXPECT_EQ(f->tensors()[0].as<float>()[1], -3.0f);
}

}  // namespace
}  // namespace tessera::gguf
