// Each dense shader against a float64 oracle written here: matvec (F32/F16/I8, bias, accumulate,
// split rows, LayerNorm on the fly), embedding gather, LayerNorm, the K|V projection with leaky keys
// and value finishing, argmax.
#include <cmath>

#include "vk_test_util.h"
#include "vulkan/gpu_tensors.h"

namespace tessera::vk::test {
namespace {

// fp32 dot products of K terms: rounding stays below ~K·2^-24 of Σ|w x|; 1e-5 relative leaves margin.
double dot_tolerance(double abs_sum) { return 1e-5 * abs_sum + 1e-6; }

struct MatvecCase {
  DType dtype;
  bool bias;
};

class VulkanMatvec : public VulkanTest, public ::testing::WithParamInterface<MatvecCase> {};
using VulkanMatvecLn = VulkanTest;

void check_matvec(VulkanTest* t, Context& ctx, DType dtype, bool with_bias, int64_t M, int64_t K, uint32_t n,
                  std::function<BufferSlice(const std::vector<float>&)> up,
                  std::function<std::vector<float>(const BufferSlice&, size_t)> down,
                  std::function<void(const std::function<Status(Recording&)>&)> run) {
  std::mt19937 rng(7);
  std::vector<float> w = random_floats(size_t(M * K), rng), x = random_floats(size_t(n) * K, rng);
  std::vector<float> bias = random_floats(size_t(M), rng), y0 = random_floats(size_t(n) * M, rng);
  std::vector<double> wref(w.begin(), w.end());
  Matrix m;
  m.rows = M;
  m.cols = K;
  if (dtype == DType::kF32) {
    m.weight = f32_tensor("w", {M, K}, w);
  } else if (dtype == DType::kF16) {
    m.weight = f16_tensor("w", {M, K}, w);
    for (size_t i = 0; i < w.size(); ++i) wref[i] = half_to_float(float_to_half(w[i]));
  } else {
    std::vector<int8_t> q(w.size());
    std::vector<float> scale(static_cast<size_t>(M));
    for (int64_t r = 0; r < M; ++r) {
      scale[size_t(r)] = 0.01f + 0.001f * float(r);
      for (int64_t c = 0; c < K; ++c) {
        int v = int(std::lround(w[size_t(r * K + c)] * 127));
        q[size_t(r * K + c)] = int8_t(v);
        wref[size_t(r * K + c)] = double(v) * double(scale[size_t(r)]);
      }
    }
    m.weight = i8_tensor("w", {M, K}, q);
    m.scale = f32_tensor("s", {M}, scale);
  }
  if (with_bias) m.bias = f32_tensor("b", {M}, bias);
  auto g = upload_matrix(ctx, m, "test matrix");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  BufferSlice xs = up(x), ys = up(y0);
  const float out_scale = 0.75f;
  run([&](Recording& rec) {
    return record_matvec(rec, ctx, *g, {xs, 0, uint32_t(K)}, {ys, 0, uint32_t(M)}, n, /*accumulate=*/true, out_scale);
  });
  std::vector<float> y = down(ys, y0.size());
  for (uint32_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < M; ++o) {
      double s = 0, a = 0;
      for (int64_t c = 0; c < K; ++c) {
        s += wref[size_t(o * K + c)] * x[size_t(r * K + c)];
        a += std::abs(wref[size_t(o * K + c)] * x[size_t(r * K + c)]);
      }
      double want = y0[size_t(r * M + o)] + out_scale * (s + (with_bias ? bias[size_t(o)] : 0.0));
      ASSERT_NEAR(y[size_t(r * M + o)], want, dot_tolerance(a) + 1e-6) << "row " << r << " out " << o;
    }
  (void)t;
}

TEST_P(VulkanMatvec, MatchesFloat64) {
  // 7 token rows (not a multiple of the shader's 4-row tile), 37 outputs (not a multiple of a workgroup).
  // One row (decode): K = 640 is more units per lane than the shader loads ahead (matvec_core.glsl
  // PF) on an 8-wide subgroup, as is K = 264; 8 195 outputs take 4 rows per subgroup (MR), the last one
  // partial.
  struct Shape {
    int64_t M, K;
    uint32_t n;
  };
  for (Shape sh : {Shape{37, 96, 7}, Shape{37, 640, 1}, Shape{8195, 264, 1}})
    check_matvec(
        this, *ctx_, GetParam().dtype, GetParam().bias, sh.M, sh.K, sh.n, [&](const auto& v) { return upload(v); },
        [&](const auto& s, size_t n) { return download(s, n); }, [&](const auto& body) { run(body); });
}

INSTANTIATE_TEST_SUITE_P(Types, VulkanMatvec,
                         ::testing::Values(MatvecCase{DType::kF32, false}, MatvecCase{DType::kF32, true},
                                           MatvecCase{DType::kF16, true}, MatvecCase{DType::kI8, false},
                                           MatvecCase{DType::kI8, true}));

// LayerNorm on the fly (pre-LN projections): statistics per subgroup in the shader, float64 here.
// K = 100 (not a whole number of 16-byte F16 units: the 4-element path), then K = 96 (16-byte units).
TEST_F(VulkanMatvecLn, MatchesFloat64) {
  for (uint32_t n : {1u, 5u})  // decode (statistics per subgroup) and prefill (shared per workgroup)
    for (int64_t K : {int64_t(100), int64_t(96)})
      for (DType dt : {DType::kF32, DType::kF16}) {
        const int64_t M = 37;
        std::mt19937 rng(5);
        std::vector<float> w = random_floats(size_t(M * K), rng), x = random_floats(size_t(n) * K, rng, -3.0f, 5.0f);
        std::vector<float> g = random_floats(size_t(K), rng, 0.5f, 1.5f), b = random_floats(size_t(K), rng);
        Matrix m;
        m.rows = M;
        m.cols = K;
        m.weight = dt == DType::kF32 ? f32_tensor("w", {M, K}, w) : f16_tensor("w", {M, K}, w);
        std::vector<double> wref(w.begin(), w.end());
        if (dt == DType::kF16)
          for (size_t i = 0; i < w.size(); ++i) wref[i] = half_to_float(float_to_half(w[i]));
        auto gm = upload_matrix(*ctx_, m, "ln matrix");
        ASSERT_TRUE(gm.ok()) << gm.status().to_string();
        Norm nm;
        nm.weight = f32_tensor("g", {K}, g);
        nm.bias = f32_tensor("b", {K}, b);
        auto gn = upload_norm(*ctx_, nm, K, "ln");
        ASSERT_TRUE(gn.ok());
        BufferSlice xs = upload(x), ys = zeros(size_t(n) * M);
        const float eps = 1e-5f;
        run([&](Recording& rec) {
          return record_matvec(rec, *ctx_, *gm, {xs, 0, uint32_t(K)}, {ys, 0, uint32_t(M)}, n, false, 1.0f, &*gn, eps);
        });
        std::vector<float> y = download(ys, size_t(n) * M);
        for (uint32_t r = 0; r < n; ++r) {
          double mean = 0, var = 0;
          for (int64_t c = 0; c < K; ++c) mean += x[size_t(r * K + c)];
          mean /= double(K);
          for (int64_t c = 0; c < K; ++c) var += (x[size_t(r * K + c)] - mean) * (x[size_t(r * K + c)] - mean);
          double rstd = 1.0 / std::sqrt(var / double(K) + eps);
          for (int64_t o = 0; o < M; ++o) {
            double s = 0, a = 0;
            for (int64_t c = 0; c < K; ++c) {
              double xn = (x[size_t(r * K + c)] - mean) * rstd * g[size_t(c)] + b[size_t(c)];
              s += wref[size_t(o * K + c)] * xn;
              a += std::abs(wref[size_t(o * K + c)] * xn);
            }
            // The normalised inputs carry ~1e-6 relative error from the fp32 statistics.
            ASSERT_NEAR(y[size_t(r * M + o)], s, dot_tolerance(a) + 2e-6 * a)
                << "K " << K << " row " << r << " out " << o;
          }
        }
      }
}

// A bindable range of 4 KiB forces the matrix into several row parts, and staging uploads.
class VulkanSplitMatvec : public VulkanTest {
  void customize(ContextOptions& o) override {
    o.max_slice_bytes = 4096;
    o.force_staging = true;
  }
};

TEST_F(VulkanSplitMatvec, SplitRowsAndStagingMatch) {
  ASSERT_FALSE(ctx_->direct_upload());
  check_matvec(
      this, *ctx_, DType::kF32, true, 50, 64, 3, [&](const auto& v) { return upload(v); },
      [&](const auto& s, size_t n) { return download(s, n); }, [&](const auto& body) { run(body); });
  Matrix m;
  m.rows = 50;
  m.cols = 64;
  m.weight = f32_tensor("w", {50, 64}, std::vector<float>(50 * 64, 0.5f));
  auto g = upload_matrix(*ctx_, m, "split");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->parts.size(), 4u);  // 16 rows of 256 bytes per 4 KiB part
}

using VulkanDenseOps = VulkanTest;

TEST_F(VulkanDenseOps, MatvecWithMoreRowGroupsThanOneGridDimension) {
  // 70 000 outputs of prompt rows: one row per workgroup in the shared-memory flavour (the Android
  // and Raspberry Pi profiles) is more groups than a grid dimension must take (65 535); they fold.
  check_matvec(
      this, *ctx_, DType::kF16, true, 70000, 16, 2, [&](const auto& v) { return upload(v); },
      [&](const auto& s, size_t n) { return download(s, n); }, [&](const auto& body) { run(body); });
}

TEST_F(VulkanDenseOps, EmbeddingGatherI8) {
  const int64_t V = 11, C = 8;
  std::vector<int8_t> q(size_t(V * C));
  std::vector<float> scale(static_cast<size_t>(V));
  for (size_t i = 0; i < q.size(); ++i) q[i] = int8_t(int(i * 37 % 255) - 127);
  for (int64_t r = 0; r < V; ++r) scale[size_t(r)] = 0.5f + float(r);
  Matrix m;
  m.rows = V;
  m.cols = C;
  m.weight = i8_tensor("e", {V, C}, q);
  m.scale = f32_tensor("s", {V}, scale);
  auto g = upload_matrix(*ctx_, m, "embd");
  ASSERT_TRUE(g.ok());
  std::vector<int32_t> tokens = {3, 0, 10, 3};
  auto tok = ctx_->upload(std::as_bytes(std::span(tokens)), "tokens");
  ASSERT_TRUE(tok.ok());
  BufferSlice out = zeros(tokens.size() * C);
  run([&](Recording& rec) { return record_embed(rec, *ctx_, *g, *tok, out, uint32_t(tokens.size())); });
  auto y = download(out, tokens.size() * C);
  for (size_t r = 0; r < tokens.size(); ++r)
    for (int64_t c = 0; c < C; ++c)  // exact: one int8 × float product
      EXPECT_EQ(y[r * C + size_t(c)], float(q[size_t(tokens[r] * C + c)]) * scale[size_t(tokens[r])]);
}

TEST_F(VulkanDenseOps, LayerNormWithWeightAndBias) {
  const uint32_t C = 40, n = 3;
  std::mt19937 rng(3);
  auto x = random_floats(C * n, rng, -3, 5), w = random_floats(C, rng, 0.5, 1.5), b = random_floats(C, rng);
  Norm norm{f32_tensor("w", {C}, w), f32_tensor("b", {C}, b)};
  auto g = upload_norm(*ctx_, norm, C, "ln");
  ASSERT_TRUE(g.ok());
  BufferSlice xs = upload(x), out = zeros(C * n);
  run([&](Recording& rec) { return record_layernorm(rec, *ctx_, xs, 0, out, 0, n, C, *g, 1e-5f); });
  auto y = download(out, C * n);
  for (uint32_t r = 0; r < n; ++r) {
    double mean = 0, var = 0;
    for (uint32_t c = 0; c < C; ++c) mean += x[r * C + c];
    mean /= C;
    for (uint32_t c = 0; c < C; ++c) var += (x[r * C + c] - mean) * (x[r * C + c] - mean);
    var /= C;
    for (uint32_t c = 0; c < C; ++c) {
      double want = (x[r * C + c] - mean) / std::sqrt(var + 1e-5) * w[c] + b[c];
      EXPECT_NEAR(y[r * C + c], want, 2e-6 * (1 + std::abs(want)));  // a few fp32 roundings
    }
  }
}

// The stacked K|V projection with LayerNorm on the fly and the key / value finishing by the last
// workgroup of each head group, against float64: leaky keys (state carried) normalised per head
// into key-cache rows pos0 + r; values v_j = vscale ṽ_j/(||ṽ_j|| + eps), ṽ_j = (1 - c) w_{j+1} + c w_j,
// the first token's value skipped at pos0 = 0; states updated. Two forwards replay the same
// recording-free path (counters must return to 0). Head sizes 4 (several heads per workgroup) and 16;
// 1 and 5 rows (decode-style dots), 20 to 513 (prompt chunks).
// f16: the caches as IEEE halves, 2 per word (shaders/kv_cache.glsl), prefilled with all-ones words so
// that a store touching its neighbour's half shows; each stored half is within the rounding of the
// float64 value (2^-11 relative, round to nearest even; docs/numerics.md) on top of the float32 bound.
TEST_F(VulkanDenseOps, KvProjectMatchesFloat64) {
  // n >= 20: a prompt chunk (the projections as a tiled matrix product, then the finishing pass in
  // chunks of 32 rows, each from its replayed carry): 127, 128, 129 and 513 rows end just before, at
  // and just after a chunk boundary; 1 and 5 take the decode-style path.
  constexpr uint32_t kCacheRows = 2 * 513;  // two forwards of the longest chunk
  // coop: the chunk's projections on NVIDIA cooperative matrices, where the device has them (fp16 x').
  for (bool f16 : {false, true})
    for (bool coop : {false, true})
      for (uint32_t n : {1u, 5u, 20u, 127u, 128u, 129u, 250u, 513u})
        for (uint32_t d : {4u, 16u}) {
          if (coop && (n < kMatmulMinRows || !matmul_uses_cooperative_matrix(*ctx_, WeightType::kF16))) continue;
          const uint32_t H = 4, C = H * d;
          std::mt19937 rng(5 + d);
          std::vector<float> wv = random_floats(2 * C * C, rng), g = random_floats(C, rng, 0.5f, 1.5f);
          std::vector<float> st0 = random_floats(3 * C, rng);
          std::vector<float> decay = random_floats(H, rng, 0.0f, 0.9f), mix = random_floats(H, rng, -0.2f, 1.2f);
          std::vector<float> vs = random_floats(H, rng, 0.8f, 1.2f);
          Matrix m;
          m.rows = 2 * C;
          m.cols = C;
          m.weight = f16_tensor("kv", {2 * C, C}, wv);
          std::vector<double> wref(wv.size());
          for (size_t i = 0; i < wv.size(); ++i) wref[i] = half_to_float(float_to_half(wv[i]));
          auto gm = upload_matrix(*ctx_, m, "kv");
          ASSERT_TRUE(gm.ok()) << gm.status().to_string();
          Norm nm;
          nm.weight = f32_tensor("g", {C}, g);
          auto gn = upload_norm(*ctx_, nm, C, "ln");
          ASSERT_TRUE(gn.ok());
          auto params = kv_project_params(C, H, {}, {}, g, {}, decay, mix, vs);
          ASSERT_TRUE(params.ok()) << params.status().to_string();
          BufferSlice step = upload({0, 0}), states = upload(st0), prm = upload(*params);
          const std::vector<float> ones_words(f16 ? C * kCacheRows / 2 : 0, std::bit_cast<float>(~0u));
          BufferSlice kc = f16 ? upload(ones_words) : zeros(C * kCacheRows),
                      vc = f16 ? upload(ones_words) : zeros(C * kCacheRows);
          // The counters follow y in its buffer (one binding).
          BufferSlice y_cnt = zeros(2 * C * n + 2 * H);
          BufferSlice y = y_cnt.part(0, VkDeviceSize(2 * C * n) * 4);
          BufferSlice cnt = y_cnt.part(VkDeviceSize(2 * C * n) * 4, VkDeviceSize(2 * H) * 4);
          std::vector<double> s(st0.begin(), st0.end());  // key state | unused | w_prev
          std::vector<double> kwant(C * kCacheRows, 0.0), vwant(C * kCacheRows, 0.0);
          // Cooperative matrices round x' to fp16: projection o is off by at most a_o = 2^-11·Σ|w x'|.
          // That bound is carried through the leaky key state (e_s) and the value mix (e_v), and a
          // normalised vector z/|z| moves by at most 2·|Δz|/|z| (per head, 2-norms): the tolerances.
          const double unit = coop ? std::ldexp(1.0, -11) : 0.0;
          std::vector<double> e_s(C, 0.0), e_wprev(C, 0.0), ktol(C * kCacheRows, 0.0), vtol(C * kCacheRows, 0.0);
          uint32_t pos0 = 0;
          for (int fwd = 0; fwd < 2; ++fwd) {
            std::vector<float> x = random_floats(C * n, rng, -2.0f, 3.0f);
            BufferSlice xs = upload(x);
            uint32_t stp[2] = {pos0, n};
            ASSERT_TRUE(ctx_->write(step, std::as_bytes(std::span(stp))).ok());
            run([&](Recording& rec) {
              KvProject p;
              p.w = &*gm;
              p.x = {xs, 0, C};
              p.ln = &*gn;
              p.ln_eps = 1e-5f;
              p.eps = 1e-6f;
              p.n = n;
              p.head_dim = d;
              p.y = y;
              p.step = step;
              p.states = states;
              p.key_cache = kc;
              p.value_cache = vc;
              p.params = prm;
              p.counters = cnt;
              p.allow_coop = coop;
              p.kv_f16 = f16;
              return record_kv_project(rec, *ctx_, p);
            });
            for (uint32_t r = 0; r < n; ++r) {
              double mean = 0, var = 0;
              for (uint32_t c = 0; c < C; ++c) mean += x[r * C + c];
              mean /= C;
              for (uint32_t c = 0; c < C; ++c) var += (x[r * C + c] - mean) * (x[r * C + c] - mean);
              double rstd = 1.0 / std::sqrt(var / C + 1e-5);
              std::vector<double> uw(2 * C, 0.0), a(2 * C, 0.0);
              for (uint32_t o = 0; o < 2 * C; ++o)
                for (uint32_t c = 0; c < C; ++c) {
                  uw[o] += wref[o * C + c] * (x[r * C + c] - mean) * rstd * g[c];
                  a[o] += unit * std::abs(wref[o * C + c] * (x[r * C + c] - mean) * rstd * g[c]);
                }
              for (uint32_t h = 0; h < H; ++h) {
                double kn = 0, vn = 0, ek = 0, ev = 0, v[16];
                for (uint32_t i = 0; i < d; ++i) {
                  const uint32_t c = h * d + i;
                  double& si = s[c];
                  si = decay[h] * si + (1 - decay[h]) * uw[c];
                  e_s[c] = decay[h] * e_s[c] + (1 - decay[h]) * a[c];
                  kn += si * si;
                  ek += e_s[c] * e_s[c];
                  v[i] = (1 - mix[h]) * uw[C + c] + mix[h] * s[2 * C + c];
                  const double e = std::abs(1 - mix[h]) * a[C + c] + std::abs(mix[h]) * e_wprev[c];
                  vn += v[i] * v[i];
                  ev += e * e;
                }
                for (uint32_t i = 0; i < d; ++i) {
                  const uint32_t c = h * d + i;
                  kwant[(pos0 + r) * C + c] = s[c] / (std::sqrt(kn) + 1e-6);
                  ktol[(pos0 + r) * C + c] = 2 * std::sqrt(ek / kn);
                  if (pos0 + r >= 1) {
                    vwant[(pos0 + r - 1) * C + c] = vs[h] * v[i] / (std::sqrt(vn) + 1e-6);
                    vtol[(pos0 + r - 1) * C + c] = 2 * vs[h] * std::sqrt(ev / vn);
                  }
                  s[2 * C + c] = uw[C + c];
                  e_wprev[c] = a[C + c];
                }
              }
            }
            pos0 += n;
          }
          std::vector<float> k = download_cache(kc, C * kCacheRows, f16), v = download_cache(vc, C * kCacheRows, f16);
          std::vector<float> st = download(states, 3 * C);
          // Unit vectors from fp32 dot products of normalised inputs: ~1e-6; 2e-5 leaves margin (plus the
          // fp16 bounds above on the cooperative-matrix path, and the storage rounding of F16 caches).
          const double store = f16 ? std::ldexp(1.0, -11) : 0.0;
          const size_t kept_keys = size_t(pos0) * C, kept_values = size_t(pos0 - 1) * C;  // rows written
          for (size_t i = 0; i < k.size(); ++i) {
            if (f16 && i >= kept_keys) {
              EXPECT_TRUE(std::isnan(k[i])) << "key " << i << " beyond the rows written was touched";
              continue;
            }
            EXPECT_NEAR(k[i], kwant[i], (2e-5 + ktol[i]) * (1 + store) + store * std::abs(kwant[i]))
                << "key " << i << " d " << d << " n " << n << " coop " << coop << " f16 " << f16;
          }
          for (size_t i = 0; i < v.size(); ++i) {
            if (f16 && i >= kept_values) {
              EXPECT_TRUE(std::isnan(v[i])) << "value " << i << " beyond the rows written was touched";
              continue;
            }
            EXPECT_NEAR(v[i], vwant[i], (2e-5 + vtol[i]) * (1 + store) + store * std::abs(vwant[i]))
                << "value " << i << " d " << d << " n " << n << " coop " << coop << " f16 " << f16;
          }
          for (uint32_t c = 0; c < C; ++c) {
            EXPECT_NEAR(st[c], s[c], 2e-5 * (1 + std::abs(s[c])) + e_s[c]);
            EXPECT_NEAR(st[2 * C + c], s[2 * C + c], 2e-5 * (1 + std::abs(s[2 * C + c])) + e_wprev[c]);
          }
          std::vector<float> counters = download(cnt, 2 * H);
          for (float c : counters) EXPECT_EQ(c, 0.0f);
        }
}

TEST_F(VulkanDenseOps, ArgmaxLowestIndexOnTies) {
  // Row 1 of a [2, 20000] matrix: several workgroups; the tie spans two of them; replayed twice
  // (the completion counter must return to 0), the second time with a new maximum.
  const uint32_t V = 20000;
  std::mt19937 rng(1);
  std::vector<float> logits = random_floats(2 * V, rng);
  logits[V + 19001] = 5.0f;
  logits[V + 3417] = 5.0f;
  logits[V + 18000] = 5.0f;
  logits[4] = 9.0f;  // row 0 is not looked at
  BufferSlice ls = upload(logits), res = zeros(4), scratch = zeros(kArgmaxScratchBytes / 4);
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      logits[V + 12345] = 6.0f;
      ls = upload(logits);
    }
    run([&](Recording& rec) { return record_argmax(rec, *ctx_, ls, V, 1, res, scratch); });
    std::vector<float> r = download(res, 1), sc = download(scratch, 1);
    uint32_t idx, counter;
    std::memcpy(&idx, r.data(), 4);
    std::memcpy(&counter, sc.data(), 4);
    EXPECT_EQ(idx, round == 0 ? 3417u : 12345u);
    EXPECT_EQ(counter, 0u);
  }
}

TEST_F(VulkanDenseOps, GridsBeyondTheDeviceLimitAreRefusedNotRecorded) {
  // A grid past maxComputeWorkGroupCount in any dimension: an error naming the kernel and both grids,
  // and nothing recorded (the recording still ends and submits).
  const uint32_t(&most)[3] = ctx_->device().limits().maxComputeWorkGroupCount;
  struct ArgmaxPush {
    uint32_t V, row;
  } push{4, 0};
  BufferSlice ls = upload({1.0f, 3.0f, 2.0f, 0.0f}), res = zeros(4), scratch = zeros(kArgmaxScratchBytes / 4);
  const Groups too_many[] = {{most[0] + 1, 1, 1}, {1, most[1] + 1, 1}, {1, 1, most[2] + 1}};
  for (const Groups& g : too_many) {
    if (g.x == 0 || g.y == 0 || g.z == 0) continue;  // a limit of UINT32_MAX wrapped: nothing to exceed
    auto rec = Recording::create(*ctx_, 0);
    ASSERT_TRUE(rec.ok()) << rec.status().to_string();
    ASSERT_TRUE((*rec)->begin().ok());
    Status st = (*rec)->dispatch<KernelId::kArgmax>({ctx_->workgroup_size()}, {ls, res, scratch}, push, g);
    EXPECT_EQ(st.code(), StatusCode::kUnsupported) << st.to_string();
    EXPECT_NE(st.to_string().find("'argmax' needs " + std::to_string(g.x) + " x " + std::to_string(g.y) + " x " +
                                  std::to_string(g.z) + " workgroups"),
              std::string::npos)
        << st.to_string();
    EXPECT_EQ((*rec)->dispatch_count(), 0u);
    ASSERT_TRUE((*rec)->end().ok());
    EXPECT_TRUE((*rec)->submit().ok());
  }
}

}  // namespace
}  // namespace tessera::vk::test
