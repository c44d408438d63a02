// Decode attention over F16 key/value caches (shaders/kv_cache.glsl: IEEE halves, 2 per word) against
// float64 oracles, with the tolerances of docs/numerics.md "F16 key/value caches":
// - on the stored (rounded) keys, query and values, the kernels are as exact as on float32 caches;
// - against the unrounded float64 attention, the rounding u = 2^-11 of unit keys and query moves each
//   cosine by at most 2u + u² (Cauchy–Schwarz), each score β²·c by ε = β²(2u + u²); softmax weights move
//   by a factor within e^{±2ε}, the entmax threshold and every y_j by at most (α−1)ε, so only keys with
//   |y_j − τ| ≤ 2(α−1)ε may enter or leave the support, and the values add u·|v|.
// The query is a row of the key cache (q_from_cache), as in the model's decode.
#include <algorithm>
#include <cmath>

#include "core/dtype.h"
#include "support/attention_oracle.h"
#include "vk_test_util.h"

namespace tessera::vk::test {
namespace {

constexpr double kU = 1.0 / 2048;  // 2^-11: relative rounding of a normal half (round to nearest even)

std::vector<float> halves_of(const std::vector<float>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = half_to_float(float_to_half(v[i]));
  return out;
}

class VulkanF16Cache : public VulkanTest {
 protected:
  // The cache words of `v` (2 halves per word, viewed as floats for upload).
  BufferSlice upload_halves(const std::vector<float>& v) {
    std::vector<float> words((v.size() + 1) / 2);
    for (size_t i = 0; i < v.size(); ++i) {
      uint32_t w = std::bit_cast<uint32_t>(words[i / 2]) | uint32_t(float_to_half(v[i])) << (16 * (i % 2));
      words[i / 2] = std::bit_cast<float>(w);
    }
    return upload(words);
  }
};

struct Case {
  uint32_t d;
  double beta2;
};

TEST_F(VulkanF16Cache, DecodeAttentionWithinTheStorageBound) {
  const uint32_t H = 2, n = 3000;
  // d = 64: the vec4 cosine path (8-byte half loads); d = 20: the generic path (scalar half loads).
  for (const Case cs : {Case{64, 8.0}, Case{64, 64.0}, Case{20, 32.0}})
    for (const char* name : {"softmax", "sparsemax", "entmax15", "entmax43"}) {
      const uint32_t d = cs.d, C = H * d;
      std::mt19937 rng(11 + d);
      std::normal_distribution<float> g(0, 1);
      // n keys and, in row n, the query: unit per head, like the context memory's keys.
      std::vector<float> keys(size_t(n + 1) * C), vals = random_floats(size_t(n) * C, rng);
      for (auto& x : keys) x = g(rng);
      for (size_t r = 0; r < keys.size() / d; ++r) {
        double s = 0;
        for (uint32_t i = 0; i < d; ++i) s += double(keys[r * d + i]) * keys[r * d + i];
        for (uint32_t i = 0; i < d; ++i) keys[r * d + i] = float(keys[r * d + i] / std::sqrt(s));
      }
      const std::vector<float> kh = halves_of(keys), vh = halves_of(vals);
      AttentionMethod method = AttentionMethod::parse(name).value();
      BufferSlice step = upload({float(n), 0}), kc = upload_halves(keys), vc = upload_halves(vals);
      std::vector<uint32_t> step_words = {n, 1};
      ASSERT_TRUE(ctx_->write(step, std::as_bytes(std::span(step_words))).ok());
      BufferSlice beta = upload(std::vector<float>(H, float(cs.beta2))), ones = upload(std::vector<float>(H, 1.0f));
      BufferSlice relu = upload({1, 1}), out = zeros(C);
      AttentionScratchShape shape{H, d, n, 1, attention_workgroup(*ctx_, d), 256};
      auto scratch = make_attention_scratch(*ctx_, ctx_->weights(), shape);
      ASSERT_TRUE(scratch.ok()) << scratch.status().to_string();
      AttentionCall a = one_row_attention(method, n, d, step, kc, kc, vc, ones, relu, out);
      a.heads = H;
      a.out_stride = a.q_stride = C;
      a.q_from_cache = true;  // query row = step.pos0 = n
      a.k_head_stride = a.v_head_stride = d;
      a.k_key_stride = a.v_key_stride = C;
      a.head_scale = beta;
      a.kv_f16 = true;
      run([&](Recording& rec) { return record_attention(rec, *ctx_, a, *scratch); });
      const std::vector<float> o = download(out, C);

      const double eps = cs.beta2 * (2 * kU + kU * kU);  // score bound
      const double alpha = method.kind == AttentionKind::kSoftmax ? 1.0 : method.entmax_alpha();
      for (uint32_t h = 0; h < H; ++h) {
        // Float64 attention of one head over the given keys, query and values.
        auto attend = [&](const std::vector<float>& k, const std::vector<float>& v, oracle::EntmaxResult* ent) {
          std::vector<double> s(n);
          for (uint32_t j = 0; j < n; ++j) {
            double c = 0;
            for (uint32_t i = 0; i < d; ++i) c += double(k[size_t(n) * C + h * d + i]) * k[size_t(j) * C + h * d + i];
            s[j] = cs.beta2 * c;
          }
          std::vector<double> p;
          if (alpha == 1.0) {
            p = oracle::softmax(s);
          } else {
            *ent = oracle::entmax(alpha, s);
            p = ent->p;
          }
          std::vector<double> res(d, 0.0);
          for (uint32_t j = 0; j < n; ++j)
            for (uint32_t i = 0; i < d; ++i) res[i] += p[j] * v[size_t(j) * C + h * d + i];
          return std::make_pair(res, p);
        };
        oracle::EntmaxResult stored_ent, exact_ent;
        const auto [stored, p_stored] = attend(kh, vh, &stored_ent);
        const auto [exact, p_exact] = attend(keys, vals, &exact_ent);
        // The bound of the weights' perturbation on Σ_j p_j |v_j|.
        double spread = 0;
        if (alpha == 1.0) {
          spread = std::expm1(2 * eps);  // |Δp_j| ≤ (e^{2ε} − 1) p_j
        } else {
          // p_j = z_j^r with z_j = [y_j − τ]_+ ≤ 1 moving by ≤ δ = 2(α−1)ε: |Δp_j| ≤ r (1 + δ)^{r−1} δ.
          const double r = 1.0 / (alpha - 1.0), delta = 2 * (alpha - 1.0) * eps;
          size_t near_support = 0;
          for (uint32_t j = 0; j < n; ++j) {
            const double margin = exact_ent.x[j] - exact_ent.tau;
            if (margin > -delta) ++near_support;
            // Keys farther than δ from the threshold keep their side of it.
            if (std::abs(margin) > delta) {
              EXPECT_EQ(p_stored[j] > 0, p_exact[j] > 0) << name << " d " << d << " head " << h << " key " << j;
            }
          }
          spread = double(near_support) * r * std::pow(1 + delta, r - 1) * delta;
        }
        double vmax = 0;
        for (uint32_t j = 0; j < n; ++j)
          for (uint32_t i = 0; i < d; ++i) vmax = std::max(vmax, std::abs(double(vals[size_t(j) * C + h * d + i])));
        for (uint32_t i = 0; i < d; ++i) {
          const double got = o[h * d + i];
          // Kernels on the stored data: float32 cosines, weights and sums over 3000 keys.
          EXPECT_NEAR(got, stored[i], 2e-5) << name << " d " << d << " beta2 " << cs.beta2 << " head " << h;
          EXPECT_NEAR(got, exact[i], spread * vmax + kU * vmax + 2e-5)
              << name << " d " << d << " beta2 " << cs.beta2 << " head " << h << " vs unrounded";
        }
      }
    }
}

// The option is checked before any device work: an unknown element type names itself and the choices.
TEST(VulkanKvCacheOption, UnknownTypeIsRefused) {
  ContextOptions o;
  o.kv_cache = "f8";
  auto c = Context::create(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().to_string().find("'f8' (expected auto, f16 or f32)"), std::string::npos)
      << c.status().to_string();
}

}  // namespace
}  // namespace tessera::vk::test
