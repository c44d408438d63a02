// The cpu-int8 backend through the public API and the quantizer's files: GGUF round trip, byte-
// identical output, thread count and kernel choice never change a bit, caller-supplied arena, no
// allocation per token, and the bad-input errors (float model, unwritable output, CLI inputs).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>

#include "quant/model_io.h"
#include "quant/quantize_model.h"
#include "support/random_model.h"
#include "tessera/tessera.h"

// Counts global allocations (the whole binary) so the per-token test can prove there are none.
static std::atomic<long> g_allocations{0};
void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC 12 flags free() on what its own operator new returned, though this file's new is malloc.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace tessera {
namespace {

std::string temp_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/tessera-int8-test-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Quantizes a fixture-shaped random model into `path`.
void write_int8_model(const std::string& path, uint64_t seed = 3) {
  quant::FloatModel m = testing::random_float_model(101, 32, 4, 2, 40, seed);
  quant::QuantizeOptions o;
  o.calibration_sequences = quant::random_calibration_sequences(101, 4, 24, 5);
  auto q = quant::quantize_model(m, o);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  ASSERT_TRUE(quant::write_quantized_gguf(*q, {}, path).ok());
}

std::vector<float> run(const std::string& path, const LoadOptions& lo, std::span<std::byte> arena = {}) {
  auto model = Model::load(path, lo);
  EXPECT_TRUE(model.ok()) << model.status().to_string();
  if (!model.ok()) return {};
  SessionOptions so;
  so.max_tokens = 32;
  so.arena = arena;
  auto s = Session::create(**model, so);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  std::vector<int32_t> tokens = {5, 17, 99, 3, 3, 42, 0, 100, 7, 64};
  std::vector<float> all(tokens.size() * 101);
  EXPECT_TRUE((*s)->prefill(std::span<const int32_t>(tokens).first(4), std::span<float>(all).first(4 * 101)).ok());
  for (size_t t = 4; t < tokens.size(); ++t) {
    EXPECT_TRUE((*s)->decode(tokens[t]).ok());
    std::copy((*s)->logits().begin(), (*s)->logits().end(), all.begin() + std::ptrdiff_t(t * 101));
  }
  return all;
}

TEST(Int8Backend, QuantizedFileIsByteIdenticalAcrossRuns) {
  const std::string a = temp_dir() + "/a.gguf", b = temp_dir() + "/b.gguf";
  write_int8_model(a);
  write_int8_model(b);
  const std::string ba = read_bytes(a), bb = read_bytes(b);
  EXPECT_GT(ba.size(), 1000u);
  EXPECT_EQ(ba, bb);
}

TEST(Int8Backend, ThreadsKernelsAndArenaNeverChangeABit) {
  const std::string path = temp_dir() + "/m.gguf";
  write_int8_model(path);
  LoadOptions lo;
  lo.backend = BackendKind::kCpuInt8;
  lo.int8_kernel = Int8Kernel::kPortable;
  const std::vector<float> ref = run(path, lo);
  ASSERT_FALSE(ref.empty());
  lo.int8_kernel = Int8Kernel::kAuto;
  EXPECT_EQ(run(path, lo), ref);
  lo.threads = 2;
  EXPECT_EQ(run(path, lo), ref);
  lo.threads = 1;
  auto model = Model::load(path, lo);
  ASSERT_TRUE(model.ok());
  const size_t bytes = (*model)->session_arena_bytes(32).value();
  EXPECT_GT(bytes, 0u);
  std::vector<std::byte> arena(bytes + 3);
  EXPECT_EQ(run(path, lo, std::span<std::byte>(arena).subspan(3)), ref);  // any alignment
  // Too small an arena is refused with the sizes.
  SessionOptions so;
  so.max_tokens = 32;
  so.arena = std::span<std::byte>(arena).first(bytes / 2);
  auto s = Session::create(**model, so);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("needed"), std::string::npos) << s.status().message();
}

TEST(Int8Backend, DecodeAllocatesNothing) {
  const std::string path = temp_dir() + "/alloc.gguf";
  write_int8_model(path);
  LoadOptions lo;
  lo.backend = BackendKind::kCpuInt8;
  lo.threads = 2;
  auto model = Model::load(path, lo);
  ASSERT_TRUE(model.ok());
  std::vector<std::byte> arena((*model)->session_arena_bytes(64).value());
  SessionOptions so;
  so.max_tokens = 64;
  so.arena = arena;
  auto s = Session::create(**model, so);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->decode(1).ok());
  const long before = g_allocations.load();
  for (int32_t t = 0; t < 40; ++t) ASSERT_TRUE((*s)->decode(t % 101).ok());
  EXPECT_EQ(g_allocations.load(), before);
}

TEST(Int8Backend, FloatModelIsRefusedWithAClearError) {
  const std::string path = temp_dir() + "/f16.gguf";
  quant::FloatModel m = testing::random_float_model(101, 32, 4, 2, 40, 4);
  quant::QuantizeOptions o;
  o.mode = quant::QuantMode::kF16;
  auto q = quant::quantize_model(m, o);
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(quant::write_quantized_gguf(*q, {}, path).ok());
  LoadOptions lo;
  lo.backend = BackendKind::kCpuInt8;
  auto model = Model::load(path, lo);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("is not an int8 model"), std::string::npos) << model.status().message();
  EXPECT_NE(model.status().message().find("tessera quantize --int8"), std::string::npos);
  // The same F16 file runs on the float CPU runtime.
  lo.backend = BackendKind::kCpu;
  EXPECT_TRUE(Model::load(path, lo).ok());
}

TEST(Int8Backend, WeightsOnlyFileRunsOnTheFloatRuntimeAsItsDequantisedModel) {
  // Oracle: the folded model with every quantized tensor replaced by scale·q, decoded in float64 here.
  // The float CPU runtime reads the same I8 + scale file; the two may differ by float32 rounding only
  // (no clamp heads: ~1e-6 of logits ~1, bound 1e-4 as for the float runtime's own oracle tests).
  quant::FloatModel m = testing::random_float_model(101, 32, 4, 2, 40, 21, false, false);
  quant::QuantizeOptions o;
  o.mode = quant::QuantMode::kWeightsOnly;
  auto q = quant::quantize_model(m, o);
  ASSERT_TRUE(q.ok());
  const std::string path = temp_dir() + "/wo.gguf";
  ASSERT_TRUE(quant::write_quantized_gguf(*q, {}, path).ok());
  auto folded = quant::fold(m);
  ASSERT_TRUE(folded.ok());
  auto dequantise = [](std::vector<float>& w, int64_t rows) {
    const int64_t cols = int64_t(w.size()) / rows;
    quant::QuantizedRows r = quant::quantize_rows(w.data(), rows, cols);
    for (size_t i = 0; i < w.size(); ++i) w[i] = r.scale[i / size_t(cols)] * float(r.q[i]);
  };
  quant::FloatModel& f = *folded;
  dequantise(f.embd.w, f.embd.rows);
  dequantise(f.output.w, f.output.rows);
  for (quant::FloatLayer& L : f.layers) {
    for (quant::FloatMatrix* x : {&L.k, &L.v, &L.o, &L.pk, &L.po}) dequantise(x->w, x->rows);
    dequantise(L.mem_k, f.hp.n_head * f.hp.pmem_size);
    dequantise(L.mem_v, f.hp.n_head * f.hp.pmem_size);
  }
  LoadOptions lo;
  lo.backend = BackendKind::kCpu;
  const std::vector<float> got = run(path, lo);
  ASSERT_FALSE(got.empty());
  const std::vector<int32_t> tokens = {5, 17, 99, 3, 3, 42, 0, 100, 7, 64};
  const auto ref = testing::reference_logits(testing::reference_of(f), tokens);
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::vector<double>& lr = ref[t];
    for (size_t v = 0; v < lr.size(); ++v) ASSERT_NEAR(got[t * 101 + v], lr[v], 1e-4) << t << " " << v;
  }
}

TEST(Int8Backend, UnwritableOutputLeavesNothing) {
  quant::FloatModel m = testing::random_float_model(20, 8, 2, 1, 4, 4);
  quant::QuantizeOptions o;
  o.calibration_sequences = {{1, 2, 3}};
  auto q = quant::quantize_model(m, o);
  ASSERT_TRUE(q.ok());
  const std::string path = temp_dir() + "/no-such-dir/out.gguf";
  Status st = quant::write_quantized_gguf(*q, {}, path);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no-such-dir"), std::string::npos) << st.message();
  EXPECT_TRUE(read_bytes(path).empty());
}

int cli(const std::string& args, std::string* err) {
  const std::string errfile = temp_dir() + "/stderr.txt";
  const int rc =
      std::system((std::string(TESSERA_BINARY_DIR) + "/tessera " + args + " 2> " + errfile + " > /dev/null").c_str());
  *err = read_bytes(errfile);
  return rc;
}

TEST(Int8Backend, CliQuantizeBadInputs) {
#ifndef TESSERA_HAVE_CLI
  GTEST_SKIP() << "built with TESSERA_BUILD_TOOLS=OFF: no tessera binary to run";
#endif
  const std::string f32 = std::string(TESSERA_BINARY_DIR) + "/int8-cli-f32.gguf";
  ASSERT_EQ(std::system((std::string(TESSERA_BINARY_DIR) + "/tessera convert " + TESSERA_TEST_DATA +
                         "/authors/fb-regular-softmax/ckpt.pt " + f32 + " > /dev/null 2>&1")
                            .c_str()),
            0);
  std::string err;
  // Out-of-vocabulary calibration token (vocab 101).
  const std::string calib = temp_dir() + "/calib.txt";
  std::ofstream(calib) << "1 2 3\n4 101 5\n";
  const std::string out = temp_dir() + "/cli.gguf";
  EXPECT_NE(cli("quantize " + f32 + " " + out + " --calib " + calib, &err), 0);
  EXPECT_NE(err.find("calib.txt:2: token 101 is outside the vocabulary [0, 101)"), std::string::npos) << err;
  EXPECT_TRUE(read_bytes(out).empty());
  // An already quantized input.
  ASSERT_EQ(cli("quantize " + f32 + " " + out + " --quiet", &err), 0) << err;
  EXPECT_NE(cli("quantize " + out + " " + temp_dir() + "/again.gguf", &err), 0);
  EXPECT_NE(err.find("already quantized"), std::string::npos) << err;
  // Unwritable output.
  EXPECT_NE(cli("quantize " + f32 + " /proc/no/out.gguf --quiet", &err), 0);
  EXPECT_NE(err.find("tessera quantize: error:"), std::string::npos) << err;
  // The int8 file runs on cpu-int8 through the CLI.
  EXPECT_EQ(cli("logits " + out + " --backend cpu-int8 --tokens \"1 2 3\"", &err), 0) << err;
  // --int16 names a candidate that does not exist: the error lists what does; nothing is written.
  const std::string forced = temp_dir() + "/forced.gguf";
  EXPECT_NE(cli("quantize " + f32 + " " + forced + " --quiet --int16 blk.0.attn_q.weight", &err), 0);
  EXPECT_NE(err.find("--int16: 'blk.0.attn_q.weight' is not a tensor or activation site of this model"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("blk.0.attn_k.weight"), std::string::npos) << err;
  EXPECT_TRUE(read_bytes(forced).empty());
  // A forced name is stored at 16 bits even with --precision int8 (the inspect listing shows its type).
  ASSERT_EQ(cli("quantize " + f32 + " " + forced + " --quiet --precision int8 --int16 blk.0.attn_k.weight", &err), 0)
      << err;
  auto inspect = [](const std::string& file) {
    const std::string text = temp_dir() + "/inspect.txt";
    std::system((std::string(TESSERA_BINARY_DIR) + "/tessera inspect " + file + " > " + text + " 2>&1").c_str());
    return read_bytes(text);
  };
  const std::string listing = inspect(forced);
  size_t wide = 0;
  for (size_t at = listing.find("I16"); at != std::string::npos; at = listing.find("I16", at + 1)) ++wide;
  EXPECT_EQ(wide, 1u) << listing;  // that tensor and nothing else
  EXPECT_NE(listing.find("blk.0.attn_k.weight"), std::string::npos) << listing;
}

}  // namespace
}  // namespace tessera
