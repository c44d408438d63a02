// The whole Vulkan forward on random tiny models against the float64 forward of model_oracle.cpp:
// every transform, F32/F16/I8 weights, biases, pre- and post-LN, pmem_count 2, both mask offsets, prompts longer
// than one recorded chunk; decode (token by token) equals prefill; pipeline cache round trip.
#include <filesystem>

#include "model_oracle.h"
#include "vk_test_util.h"
#include "vk_required.h"
#include "vulkan/vulkan_backend_impl.h"

namespace tessera::vk::test {
namespace {

HParams tiny_hparams(const char* method) {
  HParams hp;
  hp.vocab_size = 37;
  hp.n_embd = 16;
  hp.n_head = 4;
  hp.n_layer = 2;
  hp.block_size = 32;
  hp.pmem_size = 12;
  hp.pmem_count = 2;
  hp.method = AttentionMethod::parse(method).value();
  return hp;
}

std::vector<int32_t> random_tokens(size_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = int32_t(rng() % uint32_t(vocab));
  return t;
}

class VulkanModelForward : public ::testing::Test {
 protected:
  void SetUp() override { (void)take_validation_messages(); }
  void TearDown() override {
    for (const auto& m : take_validation_messages()) ADD_FAILURE() << "Vulkan validation: " << m;
  }
  std::unique_ptr<VulkanBackend> make(const RandomModel& m, ContextOptions o = {}) {
    o.validation = true;
    o.profile = test_profile();
    auto b = make_backend_from_view(m.view, o, nullptr);
    if (!b.ok()) {
      skipped_ = b.status().to_string();
      skip_ = skip_without_device(b.status());
      return nullptr;
    }
    return std::move(b).value();
  }
  // Prefill all rows vs the float64 oracle; then token-by-token decode vs the prefill rows.
  // kv_cache: the float64 bounds here are the float32 caches' (ContextOptions::kv_cache "f32"); the F16
  // caches have their own test.
  void check_model(const RandomModel& m, size_t T, double tol, const char* kv_cache = "f32") {
    constexpr double kCoopTol = 2e-3;
    ContextOptions o;
    o.kv_cache = kv_cache;
    auto backend = make(m, o);
    if (!backend && skip_) TESSERA_VK_NO_DEVICE("no usable Vulkan device: " << skipped_);
    ASSERT_TRUE(backend) << skipped_;
    const int64_t V = m.view.hp.vocab_size;
    auto tokens = random_tokens(T, V, 99);
    std::vector<double> want = oracle_forward(m, tokens);
    auto seq = backend->new_sequence(int64_t(T) + 3);
    ASSERT_TRUE(seq.ok()) << seq.status().to_string();
    std::vector<float> all(T * size_t(V));
    Status s = (*seq)->forward(tokens, all, true);
    ASSERT_TRUE(s.ok()) << s.to_string();
    // F16 / I8 weights on NVIDIA cooperative matrices: prompt chunks round x' to fp16 (2^-11 relative
    // per product term, docs/numerics.md), which these logits carry at ~1e-3 after two layers.
    const bool coop = m.view.token_embd.weight.dtype != DType::kF32 &&
                      matmul_uses_cooperative_matrix(backend->context(), WeightType::kF16);
    if (coop) tol = std::max(tol, kCoopTol);
    double worst = 0;
    for (size_t i = 0; i < all.size(); ++i) worst = std::max(worst, std::abs(all[i] - want[i]));
    EXPECT_LE(worst, tol) << m.view.hp.method.name();
    // Decode: same logits row by row (same kernels, one row per replay).
    (*seq)->reset();
    std::vector<float> row(static_cast<size_t>(V));
    double worst_decode = 0;
    for (size_t t = 0; t < T; ++t) {
      ASSERT_TRUE((*seq)->forward({&tokens[t], 1}, row, false).ok());
      for (int64_t v = 0; v < V; ++v)
        worst_decode = std::max(worst_decode, double(std::abs(row[size_t(v)] - all[t * size_t(V) + size_t(v)])));
      // GPU argmax agrees with the host's.
      auto* vs = static_cast<VulkanSequence*>(seq->get());
      EXPECT_EQ(vs->greedy_token(), int32_t(std::max_element(row.begin(), row.end()) - row.begin()));
    }
    // Prompt chunks of 16+ rows run the tiled products (another fp32 summation order than decode's
    // mat-vec): decode is held to the prefill's bound.
    EXPECT_LE(worst_decode, tol) << "decode differs from prefill";
    EXPECT_EQ((*seq)->position(), int64_t(T));
    // Feeding past the capacity is refused by the Session, which owns that check for every backend
    // (tests/model/request_checks_test.cpp); a backend sequence trusts it.
  }
  std::string skipped_;
  bool skip_ = true;
};

// fp32 end to end over 2 layers with β² up to 60: ~1e-5 observed; 1e-4 leaves margin.
constexpr double kF32Tol = 1e-4;

class VulkanEveryTransform : public VulkanModelForward, public ::testing::WithParamInterface<const char*> {};

TEST_P(VulkanEveryTransform, PrefillMatchesFloat64AndDecodeMatchesPrefill) {
  check_model(make_random_model(tiny_hparams(GetParam()), DType::kF32, 1234), 20, kF32Tol);
}

INSTANTIATE_TEST_SUITE_P(Methods, VulkanEveryTransform,
                         ::testing::Values("softmax", "sparsemax", "entmax15", "entmax43", "entmax:1.25", "relumax",
                                           "norm_relu", "top3_softmax", "top2_uniform"));

TEST_F(VulkanModelForward, F16AndI8WeightsWithBias) {
  HParams hp = tiny_hparams("entmax15");
  hp.bias = true;
  check_model(make_random_model(hp, DType::kF16, 5), 12, kF32Tol);  // the oracle sees the same rounded weights
  check_model(make_random_model(hp, DType::kI8, 6), 12, kF32Tol);
}

// F16 key/value caches (docs/numerics.md): each score moves by at most ε = β²(2·2^-11 + 2^-22), ≈ 0.06
// at these models' β² ≤ 60, i.e. softmax weights by up to e^{2ε} − 1 ≈ 12 % relative in the worst case;
// observed ≤ 2e-3 on the logits (lavapipe); 1e-2. Decode (halves stored by the mat-vec path) vs
// prefill (by the tiled path) within the same bound.
TEST_F(VulkanModelForward, F16CachesWithinTheirBound) {
  constexpr double kF16CacheTol = 1e-2;
  for (const char* method : {"softmax", "sparsemax", "entmax15", "entmax43"})
    check_model(make_random_model(tiny_hparams(method), DType::kF32, 1234), 20, kF16CacheTol, "f16");
  HParams hp = tiny_hparams("entmax15");
  hp.n_embd = 64;
  hp.n_head = 2;
  check_model(make_random_model(hp, DType::kF16, 13), 16, kF16CacheTol, "f16");
}

TEST_F(VulkanModelForward, WideHeads) {
  HParams hp = tiny_hparams("softmax");  // d = 32: each key's cosine spread over several lanes
  hp.n_embd = 64;
  hp.n_head = 2;
  hp.n_layer = 1;
  hp.pmem_count = 1;  // one memory (the usual configuration): no accumulation across memories
  check_model(make_random_model(hp, DType::kF32, 12), 16, kF32Tol);
  hp.method = AttentionMethod::parse("entmax15").value();
  check_model(make_random_model(hp, DType::kF16, 13), 16, kF32Tol);
}

TEST_F(VulkanModelForward, PersistentMemoryTiledOverSeveralRowTilesAndSplits) {
  // d = 16 and 40 rows: the prompt runs the tiled persistent memory (pmem_prefill.comp) over 2 or 3
  // row tiles (32 or 16 rows per tile, by profile) and 300 slots in several splits; two memories
  // (accumulate, state advanced once); decode then runs the row kernel and must agree.
  HParams hp = tiny_hparams("softmax");
  hp.n_embd = 32;
  hp.n_head = 2;
  hp.block_size = 64;
  hp.pmem_size = 300;
  check_model(make_random_model(hp, DType::kF32, 21), 40, kF32Tol);
  check_model(make_random_model(hp, DType::kI8, 22), 40, kF32Tol);  // I8 slots with per-slot scales
}

TEST_F(VulkanModelForward, PostLayerNormWithBiases) {
  HParams hp = tiny_hparams("entmax43");
  hp.pre_ln = false;
  hp.bias = true;
  check_model(make_random_model(hp, DType::kF32, 10), 12, kF32Tol);
}

TEST_F(VulkanModelForward, MaskOffsetTwoAndAttnOnly) {
  HParams hp = tiny_hparams("norm_relu");
  hp.mask_offset = 2;
  hp.attn_only = true;
  check_model(make_random_model(hp, DType::kF32, 8), 10, kF32Tol);
}

TEST_F(VulkanModelForward, PromptLongerThanOneRecordedChunk) {
  HParams hp = tiny_hparams("softmax");
  hp.n_layer = 1;
  RandomModel m = make_random_model(hp, DType::kF32, 9);
  const size_t T = size_t(rows_per_forward(uint64_t(hp.n_embd))) + 6;
  check_model(m, T, kF32Tol);  // every row's logits: chunks of kMaxLogitRows
  // Last row only: chunks of rows_per_forward rows (the largest tiled products), at 250 and T tokens.
  ContextOptions f32_caches;
  f32_caches.kv_cache = "f32";
  auto backend = make(m, f32_caches);
  ASSERT_TRUE(backend);
  const int64_t V = m.view.hp.vocab_size;
  for (size_t n : {size_t(250), T}) {
    auto tokens = random_tokens(n, V, 99);
    std::vector<double> want = oracle_forward(m, tokens);
    auto seq = backend->new_sequence(int64_t(n));
    ASSERT_TRUE(seq.ok());
    std::vector<float> last(static_cast<size_t>(V));
    ASSERT_TRUE((*seq)->forward(tokens, last, false).ok());
    for (int64_t v = 0; v < V; ++v)
      ASSERT_NEAR(last[size_t(v)], want[(n - 1) * size_t(V) + size_t(v)], kF32Tol) << n << " tokens";
  }
}

TEST(VulkanChunkRows, ActivationsStayWithinTheirBudget) {
  EXPECT_EQ(rows_per_forward(64), kMaxRowsPerForward);
  EXPECT_EQ(rows_per_forward(768), 2048u);   // GPT-2 small
  EXPECT_EQ(rows_per_forward(1024), 2048u);  // 16 C bytes x 2 048 rows = 32 MiB exactly
  EXPECT_EQ(rows_per_forward(1280), 1600u);
  EXPECT_EQ(rows_per_forward(1600), 1280u);
  EXPECT_EQ(rows_per_forward(2048), 1024u);
  EXPECT_EQ(rows_per_forward(5000), 384u);  // 419.4 rows fit: whole multiples of 64
  EXPECT_EQ(rows_per_forward(uint64_t(1) << 40), 64u);
  for (uint64_t c : {768u, 1000u, 1600u, 3000u, 8192u})
    EXPECT_LE(16 * c * rows_per_forward(c), kChunkActivationBytes) << c << " channels";
}

TEST_F(VulkanModelForward, PipelineCacheIsSavedAndReloaded) {
  auto dir = std::filesystem::temp_directory_path() / ("tessera_vk_cache_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ContextOptions o;
  o.pipeline_cache_path = (dir / "pipelines.bin").string();
  o.force_staging = true;
  RandomModel m = make_random_model(tiny_hparams("entmax43"), DType::kF32, 3);
  {
    auto b = make(m, o);
    if (!b && skip_) TESSERA_VK_NO_DEVICE(skipped_);
    ASSERT_TRUE(b) << skipped_;
    EXPECT_FALSE(b->context().pipeline_cache_loaded());
    auto seq = b->new_sequence(4);
    ASSERT_TRUE(seq.ok());
    std::vector<float> logits(static_cast<size_t>(m.view.hp.vocab_size));
    std::vector<int32_t> tok = {1, 2};
    ASSERT_TRUE((*seq)->forward(tok, logits, false).ok());
  }
  ASSERT_TRUE(std::filesystem::exists(o.pipeline_cache_path));
  EXPECT_GT(std::filesystem::file_size(o.pipeline_cache_path), 0u);
  auto b2 = make(m, o);
  ASSERT_TRUE(b2);
  EXPECT_TRUE(b2->context().pipeline_cache_loaded());
  b2.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera::vk::test
