// The tiled matrix product of prompt chunks (shaders/matmul.comp, shaders/matmul_coopmat_nv.comp)
// against a float64 oracle: F32/F16/I8 weights, bias, accumulate, out_scale, LayerNorm on the fly,
// row counts and output counts that are not multiples of the tiles, K not a multiple of the
// 16-column slice, and a matrix split into row parts.
#include <cmath>

#include "vk_test_util.h"
#include "vulkan/gpu_tensors.h"

namespace tessera::vk::test {
namespace {

struct Problem {
  uint32_t n;
  int64_t M, K;
};

struct Built {
  Matrix m;
  std::vector<double> wref;  // the weights as the shader sees them (after F16 / I8 rounding)
};

Built make_matrix(DType dtype, bool with_bias, int64_t M, int64_t K, std::mt19937& rng, std::vector<float>* bias) {
  Built b;
  std::vector<float> w = random_floats(size_t(M * K), rng);
  b.wref.assign(w.begin(), w.end());
  b.m.rows = M;
  b.m.cols = K;
  if (dtype == DType::kF32) {
    b.m.weight = f32_tensor("w", {M, K}, w);
  } else if (dtype == DType::kF16) {
    b.m.weight = f16_tensor("w", {M, K}, w);
    for (size_t i = 0; i < w.size(); ++i) b.wref[i] = half_to_float(float_to_half(w[i]));
  } else {
    std::vector<int8_t> q(w.size());
    std::vector<float> scale(static_cast<size_t>(M));
    for (int64_t r = 0; r < M; ++r) {
      scale[size_t(r)] = 0.01f + 0.001f * float(r);
      for (int64_t c = 0; c < K; ++c) {
        int v = int(std::lround(w[size_t(r * K + c)] * 127));
        q[size_t(r * K + c)] = int8_t(v);
        b.wref[size_t(r * K + c)] = double(v) * double(scale[size_t(r)]);
      }
    }
    b.m.weight = i8_tensor("w", {M, K}, q);
    b.m.scale = f32_tensor("s", {M}, scale);
  }
  *bias = random_floats(size_t(M), rng);
  if (with_bias) b.m.bias = f32_tensor("b", {M}, *bias);
  return b;
}

class VulkanMatmul : public VulkanTest {
 protected:
  // `rel`: allowed error as a fraction of sum_k |W x'| (plus 1e-6 absolute).
  void check(DType dtype, bool with_ln, const Problem& p, bool coop, double rel, const MatmulTile* tile = nullptr) {
    const auto [n, M, K] = p;
    std::mt19937 rng(11 + uint32_t(M) + n);
    std::vector<float> bias;
    Built b = make_matrix(dtype, true, M, K, rng, &bias);
    std::vector<float> x = random_floats(size_t(n) * K, rng, -3.0f, 5.0f), y0 = random_floats(size_t(n) * M, rng);
    std::vector<float> g = random_floats(size_t(K), rng, 0.5f, 1.5f), lb = random_floats(size_t(K), rng);
    auto gm = upload_matrix(*ctx_, b.m, "matmul test");
    ASSERT_TRUE(gm.ok()) << gm.status().to_string();
    Norm nm;
    nm.weight = f32_tensor("g", {K}, g);
    nm.bias = f32_tensor("lb", {K}, lb);
    auto gn = upload_norm(*ctx_, nm, K, "ln");
    ASSERT_TRUE(gn.ok());
    BufferSlice xs = upload(x), ys = upload(y0);
    const float out_scale = 0.75f, eps = 1e-5f;
    run([&](Recording& rec) {
      return record_matmul(rec, *ctx_, *gm, {xs, 0, uint32_t(K)}, {ys, 0, uint32_t(M)}, n, true, out_scale,
                           with_ln ? &*gn : nullptr, eps, coop, tile);
    });
    std::vector<float> y = download(ys, y0.size());
    for (uint32_t r = 0; r < n; ++r) {
      std::vector<double> xn(static_cast<size_t>(K));
      double mean = 0, var = 0;
      for (int64_t c = 0; c < K; ++c) mean += x[size_t(r * K + c)];
      mean /= double(K);
      for (int64_t c = 0; c < K; ++c) var += (x[size_t(r * K + c)] - mean) * (x[size_t(r * K + c)] - mean);
      const double rstd = 1.0 / std::sqrt(var / double(K) + eps);
      for (int64_t c = 0; c < K; ++c)
        xn[size_t(c)] = with_ln ? (x[size_t(r * K + c)] - mean) * rstd * g[size_t(c)] + lb[size_t(c)]
                                : double(x[size_t(r * K + c)]);
      for (int64_t o = 0; o < M; ++o) {
        double s = 0, a = 0;
        for (int64_t c = 0; c < K; ++c) {
          s += b.wref[size_t(o * K + c)] * xn[size_t(c)];
          a += std::abs(b.wref[size_t(o * K + c)] * xn[size_t(c)]);
        }
        double want = y0[size_t(r * M + o)] + out_scale * (s + bias[size_t(o)]);
        ASSERT_NEAR(y[size_t(r * M + o)], want, rel * a + 1e-6)
            << "dtype " << int(dtype) << " ln " << with_ln << " n " << n << " M " << M << " K " << K << " row " << r
            << " out " << o;
      }
    }
  }
};

// fp32 products and sums of K terms: rounding below ~K·2^-24 of Σ|w x'|; the LayerNorm-ed inputs
// carry ~1e-6 relative error from the fp32 statistics. 1e-5 leaves margin (as matvec's tests).
constexpr double kFp32Rel = 1e-5;
// Cooperative matrices: x' rounded to fp16 (2^-11 relative per term, weights exact); twice that.
constexpr double kCoopRel = 2 * 0.00048828125;

const Problem kProblems[] = {
    {16, 37, 96},    // the smallest chunk record_matvec hands over; outputs not a multiple of 64
    {70, 130, 100},  // rows not a multiple of the tile, K not a multiple of 16
    {129, 64, 768},  // a GPT-2-sized row over three row tiles
};

TEST_F(VulkanMatmul, PortableMatchesFloat64) {
  for (DType dt : {DType::kF32, DType::kF16, DType::kI8})
    for (bool ln : {false, true})
      for (const Problem& p : kProblems) check(dt, ln, p, false, kFp32Rel);
}

TEST_F(VulkanMatmul, CooperativeMatrixMatchesFloat64) {
  if (!matmul_uses_cooperative_matrix(*ctx_, WeightType::kF16))
    GTEST_SKIP() << "the device has no usable NVIDIA cooperative matrices (16x8x16 fp16 -> fp32)";
  EXPECT_FALSE(matmul_uses_cooperative_matrix(*ctx_, WeightType::kF32));  // would round the weights
  for (DType dt : {DType::kF16, DType::kI8})
    for (bool ln : {false, true}) {
      // The problems above take 32 x 64 tiles (few tiles); these 264 tiles of 64 x 64 and 216 of
      // 64 x 128 (ops_matmul.cpp), with K not a multiple of the 32-wide K slice.
      for (const Problem& p : kProblems) check(dt, ln, p, true, kCoopRel);
      check(dt, ln, {512, 2100, 200}, true, kCoopRel);
      check(dt, ln, {1500, 1030, 200}, true, kCoopRel);
    }
}

// The tiles of devices limited to 128 invocations (Android Baseline 2022) and 64, on this device.
TEST_F(VulkanMatmul, SmallerTilesMatchFloat64) {
  for (MatmulTile t : {matmul_tile_for(128, 128, 32768), matmul_tile_for(64, 64, 16384)}) {
    if (t.workgroup > ctx_->device().limits().maxComputeWorkGroupInvocations) continue;
    for (const Problem& p : kProblems) check(DType::kI8, true, p, false, kFp32Rel, &t);  // I8: scales too
  }
}

// Limits to tiles: whole 16-thread rows, within the invocations and the shared memory.
TEST(MatmulTileFor, FitsTheLimits) {
  EXPECT_EQ(matmul_tile_for(1024, 1024, 49152).workgroup, 256u);
  EXPECT_EQ(matmul_tile_for(1024, 1024, 49152).rows(), 64u);
  const MatmulTile android = matmul_tile_for(128, 128, 32768);  // Android Baseline 2022
  EXPECT_EQ(android.workgroup, 128u);
  EXPECT_EQ(android.rows(), 64u);
  const MatmulTile pi = matmul_tile_for(256, 256, 16384);  // Raspberry-Pi-class
  EXPECT_EQ(pi.workgroup, 256u);
  struct Limits {
    uint32_t invocations, shared;
  };
  for (Limits l : {Limits{128, 32768}, Limits{256, 16384}, Limits{64, 16384}, Limits{256, 8192}}) {
    const MatmulTile t = matmul_tile_for(l.invocations, l.invocations, l.shared);
    EXPECT_EQ(t.workgroup % 16, 0u);
    EXPECT_LE(t.workgroup, l.invocations);
    // shaders/matmul.comp: xs[16][BM + 1], ws[16][65], ln_stats[BM] (vec2), ln_part[WG], fp32.
    EXPECT_LE(4 * (16 * (t.rows() + 1) + 16 * 65 + 2 * t.rows() + t.workgroup), l.shared) << l.invocations;
    // The LayerNorm statistics split rows over threads: one must divide the other.
    EXPECT_TRUE(t.workgroup % t.rows() == 0 || t.rows() % t.workgroup == 0);
  }
}

// The tile fits the device: invocations and shared memory within its limits, whole 16-thread rows.
TEST_F(VulkanMatmul, TileWithinDeviceLimits) {
  const MatmulTile t = matmul_tile(*ctx_);
  const auto& limits = ctx_->device().limits();
  EXPECT_LE(t.workgroup, limits.maxComputeWorkGroupInvocations);
  EXPECT_LE(t.workgroup, limits.maxComputeWorkGroupSize[0]);
  EXPECT_EQ(t.workgroup % 16, 0u);
  EXPECT_LE(4 * (16 * (t.rows() + 1) + 16 * 65 + 2 * t.rows() + t.workgroup), limits.maxComputeSharedMemorySize);
}

// A 4 KiB bindable range splits the matrix into row parts: each part's outputs land at its rows
// (16 rows of 64 floats: the input fits one 4 KiB range).
class VulkanSplitMatmul : public VulkanMatmul {
  void customize(ContextOptions& o) override { o.max_slice_bytes = 4096; }
};

TEST_F(VulkanSplitMatmul, RowPartsMatchFloat64) { check(DType::kF32, true, {16, 50, 64}, false, kFp32Rel); }

}  // namespace
}  // namespace tessera::vk::test
