// Causal attention of prompt chunks (rows > 1) on the tiled kernels (ops_attention_tiled.cpp) against a
// float64 oracle on the same stored keys, queries and values (float32 or F16 cache words): one tile,
// partial tiles, more rows than the old 128-row passes, a chunk after a cached prefix, mask offset 2, two
// heads with their own β², d = 64 and 20, accumulate with scale and out_scale.
// Tolerance 2e-5 absolute on outputs of magnitude <= 1: the cosines keep ~1 ulp (error-free products and
// compensated sums), so β² ≤ 64 moves a weight by ~1e-5 relative at most; the weighted sums add fp32
// rounding over a few hundred keys (the decode kernels' bound in vulkan_attention_f16_cache_test).
// On NVIDIA cooperative matrices (F16 caches, d = 64; not on lavapipe) the products are exact (fp16
// inputs) but the fp32 accumulation of the matrix units rounds each cosine by up to d·2⁻²³ (a score
// error β²·d·2⁻²³ ≤ 5e-4 at β² = 64: weights within e^{±1e-3}), and the weights are rounded to fp16
// for the product with the values (relative 2⁻¹¹, absolute 2⁻²⁵ below 2⁻¹⁴; the normaliser sums the
// same rounded weights): |Δo| ≤ (2e-3 + 2·2⁻¹¹ + n·2⁻²⁵)·max|v| + 2e-5 → 4e-3 for these rows.
#include <algorithm>
#include <cmath>

#include "core/dtype.h"
#include "support/attention_oracle.h"
#include "vk_test_util.h"

namespace tessera::vk::test {
namespace {

struct PrefillCase {
  uint32_t d, prefix, rows, mask_offset;
  bool f16;
  bool accumulate;
  // β² of 1 and 2 instead of 8 and 64: hundreds of keys in a row's entmax support, several threshold sweeps.
  bool wide_support = false;
};

class VulkanAttentionPrefill : public VulkanTest {
 protected:
  BufferSlice upload_cache(const std::vector<float>& v, bool f16) {
    if (!f16) return upload(v);
    std::vector<float> words((v.size() + 1) / 2);
    for (size_t i = 0; i < v.size(); ++i) {
      uint32_t w = std::bit_cast<uint32_t>(words[i / 2]) | uint32_t(float_to_half(v[i])) << (16 * (i % 2));
      words[i / 2] = std::bit_cast<float>(w);
    }
    return upload(words);
  }

  void check(const PrefillCase& pc, const char* method_name = "softmax") {
    const uint32_t H = 2, d = pc.d, C = H * d, n = pc.prefix + pc.rows;
    const double beta2[H] = {pc.wide_support ? 1.0 : 8.0, pc.wide_support ? 2.0 : 64.0};
    const float out_scale[H] = {1.0f, 0.75f}, scale = pc.accumulate ? 0.5f : 1.0f;
    std::mt19937 rng(7 + d + pc.prefix + pc.rows);
    std::normal_distribution<float> g(0, 1);
    // Keys of every position (unit per head; the queries are the same rows) and values.
    std::vector<float> keys(size_t(n) * C), vals = random_floats(size_t(n) * C, rng);
    for (auto& x : keys) x = g(rng);
    for (size_t r = 0; r < keys.size() / d; ++r) {
      double s = 0;
      for (uint32_t i = 0; i < d; ++i) s += double(keys[r * d + i]) * keys[r * d + i];
      for (uint32_t i = 0; i < d; ++i) keys[r * d + i] = float(keys[r * d + i] / std::sqrt(s));
    }
    if (pc.f16) {
      for (auto& x : keys) x = half_to_float(float_to_half(x));
      for (auto& x : vals) x = half_to_float(float_to_half(x));
    }
    const std::vector<float> prior = random_floats(size_t(pc.rows) * C, rng);
    BufferSlice step = upload({0, 0}), kc = upload_cache(keys, pc.f16), vc = upload_cache(vals, pc.f16);
    std::vector<uint32_t> step_words = {pc.prefix, pc.rows};
    ASSERT_TRUE(ctx_->write(step, std::as_bytes(std::span(step_words))).ok());
    BufferSlice beta = upload({float(beta2[0]), float(beta2[1])}), os = upload({out_scale[0], out_scale[1]});
    BufferSlice relu = upload({1, 1}), out = pc.accumulate ? upload(prior) : zeros(size_t(pc.rows) * C);
    AttentionCall a;
    a.method = AttentionMethod::parse(method_name).value();
    const double alpha = a.method.kind == AttentionKind::kSoftmax ? 1.0 : a.method.entmax_alpha();
    a.heads = H;
    a.head_dim = d;
    a.out_stride = a.q_stride = C;
    a.step = step;
    a.q = a.keys = kc;
    a.values = vc;
    a.q_from_cache = true;
    a.kv_f16 = pc.f16;
    a.k_head_stride = a.v_head_stride = d;
    a.k_key_stride = a.v_key_stride = C;
    a.mask_offset = pc.mask_offset;
    a.rows = pc.rows;
    a.head_scale = beta;
    a.relu_params = relu;
    a.out_scale = os;
    a.out = out;
    a.accumulate = pc.accumulate;
    a.scale = scale;
    // The tiled kernel must be what runs, under every profile: no fallback passes this test. Exact
    // entmax off the matrix units keeps the per-row passes where the softmax would run on them (then
    // this checks those against the same oracle).
    AttentionCall softmax_call = a;
    softmax_call.method = AttentionMethod::parse("softmax").value();
    const bool entmax_on_passes = alpha != 1.0 && !attention_tiled_uses_cooperative_matrix(*ctx_, a) &&
                                  attention_tiled_uses_cooperative_matrix(*ctx_, softmax_call);
    ASSERT_EQ(attention_tiled_applies(*ctx_, a), !entmax_on_passes) << "profile " << test_profile() << " d " << d;
    const double tol = attention_tiled_uses_cooperative_matrix(*ctx_, a) ? 4e-3 : 2e-5;
    AttentionScratchShape shape{H, d, n, 1, attention_workgroup(*ctx_, d), 256};
    auto scratch = make_attention_scratch(*ctx_, ctx_->weights(), shape);
    ASSERT_TRUE(scratch.ok()) << scratch.status().to_string();
    run([&](Recording& rec) { return record_attention(rec, *ctx_, a, *scratch); });
    const std::vector<float> o = download(out, size_t(pc.rows) * C);

    for (uint32_t r = 0; r < pc.rows; ++r) {
      const uint32_t t = pc.prefix + r;
      const int64_t nk = std::max<int64_t>(int64_t(t) - pc.mask_offset + 1, 0);
      for (uint32_t h = 0; h < H; ++h) {
        std::vector<double> want(d, 0.0);
        if (nk > 0) {
          std::vector<double> s(nk);
          for (int64_t j = 0; j < nk; ++j) {
            double c = 0;
            for (uint32_t i = 0; i < d; ++i)
              c += double(keys[size_t(t) * C + h * d + i]) * keys[size_t(j) * C + h * d + i];
            s[j] = beta2[h] * c;
          }
          const std::vector<double> p = alpha == 1.0 ? oracle::softmax(s) : oracle::entmax(alpha, s).p;
          for (int64_t j = 0; j < nk; ++j)
            for (uint32_t i = 0; i < d; ++i) want[i] += p[j] * vals[size_t(j) * C + h * d + i];
        }
        for (uint32_t i = 0; i < d; ++i) {
          const size_t e = size_t(r) * C + h * d + i;
          const double expect = (pc.accumulate ? prior[e] : 0.0) + double(scale) * out_scale[h] * want[i];
          ASSERT_NEAR(o[e], expect, tol) << method_name << " d " << d << " prefix " << pc.prefix << " rows " << pc.rows
                                         << " mask " << pc.mask_offset << (pc.f16 ? " f16" : " f32") << " row " << r
                                         << " head " << h << " channel " << i;
        }
      }
    }
  }
};

TEST_F(VulkanAttentionPrefill, SoftmaxMatchesFloat64) {
  for (const PrefillCase pc : {
           PrefillCase{64, 0, 8, 1, false, false},    // within one tile
           PrefillCase{64, 0, 37, 1, true, false},    // partial tiles
           PrefillCase{64, 0, 200, 1, true, false},   // more rows than the per-row passes took at once
           PrefillCase{64, 300, 70, 1, false, true},  // a chunk after a cached prefix, accumulated
           PrefillCase{64, 200, 150, 1, true, true},
           PrefillCase{64, 5, 40, 2, true, false},   // mask offset 2: the first row sees 4 keys
           PrefillCase{20, 0, 45, 2, false, false},  // another head size; row 0 sees no key
           PrefillCase{20, 130, 19, 1, true, true},
       })
    check(pc);
}

// Exact entmax: the threshold found on the recomputed cosines (no candidate list), the weights of exactly
// the support. Same tolerances: the threshold is exact to fp32 rounding of y = (α−1)β²(c − max c), and a
// key within rounding of τ has weight ≈ 0 on either side. On cooperative matrices the weights
// [y − τ]₊^r ≤ 1 move by at most r·|Δy| = β²·|Δc| ≤ β²·d·2⁻²³ (the same cosine error) before their
// fp16 rounding, within the same 4e-3.
TEST_F(VulkanAttentionPrefill, ExactEntmaxMatchesFloat64) {
  for (const char* name : {"sparsemax", "entmax15", "entmax43"})
    for (const PrefillCase pc : {
             PrefillCase{64, 0, 37, 1, true, false},
             PrefillCase{64, 0, 200, 1, false, false},
             PrefillCase{64, 200, 150, 1, true, true},
             PrefillCase{20, 5, 40, 2, false, false},
             PrefillCase{64, 400, 100, 1, false, false, true},  // wide supports
             PrefillCase{20, 300, 70, 1, true, false, true},
         })
      check(pc, name);
}

// The same with ContextOptions::entmax_matrix_units: on NVIDIA cooperative matrices (F16 caches, d = 64)
// the exact-entmax kernel there, elsewhere the shared-memory kernel as above.
class VulkanAttentionPrefillEntmaxMatrixUnits : public VulkanAttentionPrefill {
 protected:
  void customize(ContextOptions& o) override { o.entmax_matrix_units = true; }
};

TEST_F(VulkanAttentionPrefillEntmaxMatrixUnits, ExactEntmaxMatchesFloat64) {
  for (const char* name : {"sparsemax", "entmax15", "entmax43"})
    for (const PrefillCase pc : {
             PrefillCase{64, 0, 8, 1, true, false},            // one tile, three subgroups without rows
             PrefillCase{64, 0, 37, 1, true, false},           // partial tiles
             PrefillCase{64, 5, 40, 2, true, false},           // mask offset 2
             PrefillCase{64, 200, 150, 1, true, true},         // accumulated
             PrefillCase{64, 300, 130, 1, true, false},        // a chunk after a cached prefix: 7 key tiles
             PrefillCase{64, 400, 100, 1, true, false, true},  // wide supports
         })
      check(pc, name);
}

}  // namespace
}  // namespace tessera::vk::test
