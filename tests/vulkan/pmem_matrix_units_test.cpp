// The persistent memory of prompt chunks with per-head kernels: heads whose score bound
// (kPmemMatrixScoreBound · β'² · max ||k||) is within kPmemMatrixScoreTolerance run on NVIDIA
// cooperative matrices (shaders/pmem_prefill_coopmat_nv.comp), a head on the β' clamp keeps the
// compensated kernel (shaders/pmem_prefill.comp), both in one record_pmem. Against a float64 oracle
// on the stored halves: 4 heads (β'² = 0.5, 3, 49, e^10), d = 64, F16 slots, one or two memories, from one
// 64-row tile over one 64-slot tile up to N = 700 (not a multiple of the tile) and 512 rows. Devices without
// cooperative matrices (lavapipe) run every head on the tiled kernel, held to its own bound.
// Structured slot values (a channel ramp, unit vectors) over one tile separate P V from Q K^T.
#include <cmath>
#include <cstdio>

#include "vk_test_util.h"
#include "vulkan/gpu_model.h"

namespace tessera::vk::test {
namespace {

TEST(VulkanPmemMatrixHeads, BoundPicksHeads) {
  // 2^-18 β'² ||k|| <= 2^-11 <=> β'² ||k|| <= 128; β'² below 2^-10 or not finite never.
  const std::vector<float> b = {3.0f, 49.0f, 22026.47f, 600.0f, 0.0f, 1e-4f, 128.0f, 64.0f};
  const std::vector<double> norm = {1.3, 1.3, 1.0, 1.3, 1.0, 1.0, 1.0, 2.0001};
  EXPECT_EQ(pmem_matrix_unit_heads(b, norm), 0b01000011u);
  std::vector<float> many(40, 1.0f);
  std::vector<double> ones(40, 1.0);
  EXPECT_EQ(pmem_matrix_unit_heads(many, ones), ~0u) << "heads >= 32 keep the tiled kernel";
  EXPECT_EQ(pmem_matrix_unit_heads(b, std::vector<double>(2, 1.0)), 0b11u) << "missing norms: tiled kernel";
}

// Rows, slots per head, memories: from one row tile over one slot tile (one split, merged by itself)
// up to several row tiles, splits and two memories.
struct PmemShape {
  uint32_t rows, slots, memories;
};

// The persistent memory with the matrix-unit kernel allowed (off by default), and one run of it.
class VulkanPmemMatrixTest : public VulkanTest {
 protected:
  void customize(ContextOptions& o) override { o.pmem_matrix_units = true; }

  struct Run {
    std::vector<float> out, state;
    bool matrix_units = false;  // record_pmem took the matrix-unit kernel
  };
  // One record_pmem per memory (P of them in `slots`) over the n rows of u from state0, the output
  // starting as y0 (the first memory writes it, later ones add), eps 1e-6.
  void run_memories(const PmemSlots& slots, uint32_t P, uint32_t H, uint32_t d, uint32_t N, uint32_t n,
                    const std::vector<float>& u, const std::vector<float>& state0, const std::vector<float>& y0,
                    const std::vector<float>& decay, const std::vector<float>& qscale, const std::vector<float>& vscale,
                    Run& r) {
    const uint32_t C = H * d;
    BufferSlice us = upload(u), ss = upload(state0), ds = upload(decay), qs = upload(qscale), vss = upload(vscale);
    BufferSlice out = upload(y0);
    auto params = pmem_params(C, H, {}, {}, {}, {}, decay, qscale, vscale, {}, {});
    ASSERT_TRUE(params.ok()) << params.status().to_string();
    BufferSlice ps = upload(*params);
    auto scratch = make_pmem_scratch(*ctx_, ctx_->weights(), n, H, d, N);
    ASSERT_TRUE(scratch.ok()) << scratch.status().to_string();
    run([&](Recording& rec) {
      for (uint32_t i = 0; i < P; ++i) {
        const PmemCall c = pmem_test_call(H, d, N, n, i, P, {us, ss, ps, ds, qs, vss, out}, kEps);
        r.matrix_units = pmem_uses_matrix_units(*ctx_, c, slots);
        TESSERA_RETURN_IF_ERROR(record_pmem(rec, *ctx_, c, slots, *scratch));
        rec.barrier();
      }
      return Status::ok_status();
    });
    r.out = download(out, size_t(n) * C);
    r.state = download(ss, C);
    for (float c : download(scratch->counters, size_t(n + 1) * H)) EXPECT_EQ(c, 0.0f) << "counters return to 0";
  }
  static constexpr float kEps = 1e-6f;
};

class VulkanPmemMatrix : public VulkanPmemMatrixTest, public ::testing::WithParamInterface<PmemShape> {};

TEST_P(VulkanPmemMatrix, HeadsWithinTheirBound) {
  const uint32_t n = GetParam().rows, N = GetParam().slots, P = GetParam().memories;
  const uint32_t H = 4, d = 64, C = H * d;
  std::mt19937 rng(23);
  const size_t slots = size_t(P) * H * N;
  // Keys of about unit norm (uniform in ±sqrt(3/d) per channel), like the models' slots.
  std::vector<float> mk = random_floats(slots * d, rng, -std::sqrt(3.0f / d), std::sqrt(3.0f / d));
  std::vector<float> mv = random_floats(slots * d, rng);
  std::vector<double> kref(mk.size()), vref(mv.size());
  for (size_t e = 0; e < mk.size(); ++e) {
    kref[e] = half_to_float(float_to_half(mk[e]));
    vref[e] = half_to_float(float_to_half(mv[e]));
  }
  std::vector<float> decay = {0.3f, 0.85f, 0.6f, 0.95f}, vscale = {0.9f, 1.3f, 1.1f, 0.7f};
  std::vector<float> qscale = {0.5f, 3.0f, 49.0f, float(std::exp(10.0))};
  std::vector<double> max_norm(H, 0.0);
  for (size_t s = 0; s < slots; ++s) {
    double nn = 0;
    for (uint32_t i = 0; i < d; ++i) nn += kref[s * d + i] * kref[s * d + i];
    max_norm[s / N % H] = std::max(max_norm[s / N % H], std::sqrt(nn));
  }
  LayerWeights w;
  w.pmem_mem_k = f16_tensor("mk", {P, H, N, d}, mk);
  w.pmem_mem_v = f16_tensor("mv", {P, H, N, d}, mv);
  w.pmem_query_scale = qscale;
  auto up = upload_pmem_slots(*ctx_, w, d, "test ");
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  ASSERT_EQ(int(up->wtype), int(WeightType::kF16));
  // The upload picks the heads from β'² and the stored keys: all but the clamped head.
  EXPECT_EQ(up->matrix_heads, 0b0111u);
  EXPECT_EQ(pmem_matrix_unit_heads(qscale, max_norm), 0b0111u);

  std::vector<float> u = random_floats(size_t(n) * C, rng), state0 = random_floats(C, rng);
  std::vector<float> y0 = random_floats(size_t(n) * C, rng);
  Run run;
  run_memories(*up, P, H, d, N, n, u, state0, y0, decay, qscale, vscale, run);
  if (HasFatalFailure()) return;
  const std::vector<float>&got = run.out, &state = run.state;
  const bool matrix_units = run.matrix_units;
  double worst[4] = {0, 0, 0, 0};  // largest |error| / allowed per head
  for (uint32_t h = 0; h < H; ++h) {
    uint32_t failures = 0;
    const bool on_matrix_units = matrix_units && ((up->matrix_heads >> h) & 1u);
    // Score errors: the float32 query (leaky walk over up to 512 rows, normalisation: ~1e-6 relative
    // against float64 on the same inputs, allowed 2^-20), which β'² max ||k|| multiplies — on the clamp
    // ~0.02, the compensated kernel's whole error there; plus the matrix units' bound on their heads.
    const double tau = (0x1p-20 + (on_matrix_units ? kPmemMatrixScoreBound : 0.0)) * qscale[h] * max_norm[h];
    std::vector<double> s(state0.begin() + h * d, state0.begin() + (h + 1) * d);
    for (uint32_t r = 0; r < n; ++r) {
      double nn = 0;
      for (uint32_t i = 0; i < d; ++i) {
        s[i] = decay[h] * s[i] + (1.0 - decay[h]) * u[r * C + h * d + i];
        nn += s[i] * s[i];
      }
      std::vector<double> q(d), o(d, 0.0), mass(d, 0.0);  // mass: Σ p |v| per channel
      for (uint32_t i = 0; i < d; ++i) q[i] = qscale[h] * s[i] / (std::sqrt(nn) + kEps);
      for (uint32_t p = 0; p < P; ++p) {
        size_t base = (size_t(p) * H + h) * N;
        std::vector<double> sc(N);
        double mx = -1e300, z = 0;
        for (uint32_t j = 0; j < N; ++j) {
          double t = 0;
          for (uint32_t i = 0; i < d; ++i) t += q[i] * kref[(base + j) * d + i];
          sc[j] = t;
          mx = std::max(mx, t);
        }
        for (uint32_t j = 0; j < N; ++j) z += std::exp(sc[j] - mx);
        for (uint32_t j = 0; j < N; ++j)
          for (uint32_t i = 0; i < d; ++i) {
            const double pv = std::exp(sc[j] - mx) / z / P;
            o[i] += pv * vref[(base + j) * d + i];
            mass[i] += pv * std::abs(vref[(base + j) * d + i]);
          }
      }
      for (uint32_t i = 0; i < d; ++i) {
        // The compensated kernel's 2e-5 + 2e-5 relative (vulkan_pmem_test); scores within tau move every
        // weight by a factor within e^(±2 tau); on the matrix units P (hi + lo halves) and the fp32
        // accumulation of P V add <= 2^-16 Σ p |v|.
        const double want = vscale[h] * o[i];
        const double allowed = 2e-5 + 2e-5 * std::abs(want) +
                               (std::expm1(2 * tau) + (on_matrix_units ? 0x1p-16 : 0.0)) * vscale[h] * mass[i];
        const double err = std::abs(double(got[r * C + h * d + i]) - want);
        worst[h] = std::max(worst[h], err / allowed);
        if (err > allowed && ++failures <= 4)
          ADD_FAILURE() << "row " << r << " head " << h << " channel " << i << ": got " << got[r * C + h * d + i]
                        << ", want " << want << " (|error| " << err << " > " << allowed << ")";
      }
    }
    EXPECT_EQ(failures, 0u) << "head " << h << ": outputs outside their bound";
    for (uint32_t i = 0; i < d; ++i) EXPECT_NEAR(state[h * d + i], s[i], 1e-6) << "state " << h * d + i;
  }
  std::printf(
      "[pmem %u rows, %u slots, %u memories, %s] worst |error| / allowed per head (beta'^2 0.5, 3, 49, e^10): %.3g "
      "%.3g %.3g %.3g\n",
      n, N, P, matrix_units ? "matrix units for heads 0-2" : "tiled kernel", worst[0], worst[1], worst[2], worst[3]);
}

// Structured slot values over one row tile and one slot tile (one split, one memory), so a failure
// says which product goes wrong: every slot holding the channel ramp (0, 1, .., 63) / 64 gives that
// ramp whatever the weights (P V and the normaliser); slot j holding the unit vector e_j (N = d) gives
// the softmax weights themselves (Q K^T and P).
TEST_F(VulkanPmemMatrixTest, RampAndIdentityValuesGiveTheRampAndTheWeights) {
  const uint32_t H = 4, d = 64, C = H * d, N = d, n = 64;
  const std::vector<float> decay = {0.3f, 0.85f, 0.6f, 0.95f}, vscale = {0.9f, 1.3f, 1.1f, 0.7f};
  const std::vector<float> qscale = {0.5f, 3.0f, 49.0f, float(std::exp(10.0))};
  for (const bool identity : {false, true}) {
    std::mt19937 rng(29);
    std::vector<float> mk = random_floats(size_t(H) * N * d, rng, -std::sqrt(3.0f / d), std::sqrt(3.0f / d));
    std::vector<float> mv(mk.size());
    for (size_t slot = 0; slot < size_t(H) * N; ++slot)
      for (uint32_t c = 0; c < d; ++c) mv[slot * d + c] = identity ? (slot % N == c ? 1.0f : 0.0f) : float(c) / 64.0f;
    LayerWeights w;
    w.pmem_mem_k = f16_tensor("mk", {1, H, N, d}, mk);
    w.pmem_mem_v = f16_tensor("mv", {1, H, N, d}, mv);
    w.pmem_query_scale = qscale;
    auto up = upload_pmem_slots(*ctx_, w, d, "test ");
    ASSERT_TRUE(up.ok()) << up.status().to_string();
    std::vector<float> u = random_floats(size_t(n) * C, rng), state0 = random_floats(C, rng);
    Run run;
    run_memories(*up, 1, H, d, N, n, u, state0, random_floats(size_t(n) * C, rng), decay, qscale, vscale, run);
    if (HasFatalFailure()) return;
    const std::vector<float>& got = run.out;
    const bool matrix_units = run.matrix_units;
    for (uint32_t h = 0; h < H; ++h) {
      const bool on_matrix_units = matrix_units && ((up->matrix_heads >> h) & 1u);
      std::vector<double> s(state0.begin() + h * d, state0.begin() + (h + 1) * d), kn(N, 0.0);
      double max_norm = 0;
      for (uint32_t j = 0; j < N; ++j) {
        for (uint32_t i = 0; i < d; ++i) kn[j] += std::pow(half_to_float(float_to_half(mk[(h * N + j) * d + i])), 2);
        max_norm = std::max(max_norm, std::sqrt(kn[j]));
      }
      // The bounds of HeadsWithinTheirBound, with Σ p |v| = the ramp value or p_c.
      const double tau = (0x1p-20 + (on_matrix_units ? kPmemMatrixScoreBound : 0.0)) * qscale[h] * max_norm;
      for (uint32_t r = 0; r < n; ++r) {
        double nn = 0;
        for (uint32_t i = 0; i < d; ++i) {
          s[i] = decay[h] * s[i] + (1.0 - decay[h]) * u[r * C + h * d + i];
          nn += s[i] * s[i];
        }
        std::vector<double> sc(N, 0.0), want(d);
        double mx = -1e300, z = 0;
        for (uint32_t j = 0; j < N; ++j) {
          for (uint32_t i = 0; i < d; ++i)
            sc[j] += qscale[h] * s[i] / (std::sqrt(nn) + kEps) * half_to_float(float_to_half(mk[(h * N + j) * d + i]));
          mx = std::max(mx, sc[j]);
        }
        for (uint32_t j = 0; j < N; ++j) z += std::exp(sc[j] - mx);
        for (uint32_t c = 0; c < d; ++c) want[c] = vscale[h] * (identity ? std::exp(sc[c] - mx) / z : c / 64.0);
        uint32_t bad = 0;
        for (uint32_t c = 0; c < d; ++c) {
          const double mass = std::abs(want[c]);
          const double allowed = 2e-5 + 2e-5 * mass + (std::expm1(2 * tau) + (on_matrix_units ? 0x1p-16 : 0.0)) * mass;
          bad += std::abs(double(got[r * C + h * d + c]) - want[c]) > allowed ? 1 : 0;
        }
        if (bad != 0) {
          std::string g, wv;
          for (uint32_t c = 0; c < d; ++c) {
            g += " " + std::to_string(got[r * C + h * d + c]);
            wv += " " + std::to_string(want[c]);
          }
          ADD_FAILURE() << (identity ? "identity" : "ramp") << " values, head " << h << " row " << r << ": " << bad
                        << " channels outside their bound (" << (on_matrix_units ? "matrix units" : "tiled kernel")
                        << ")\n got:" << g << "\n want:" << wv;
          break;  // the first row of a head says it
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, VulkanPmemMatrix,
                         ::testing::Values(PmemShape{64, 64, 1}, PmemShape{64, 700, 1}, PmemShape{70, 700, 2},
                                           PmemShape{300, 700, 2}, PmemShape{512, 700, 2}),
                         [](const ::testing::TestParamInfo<PmemShape>& i) {
                           return std::to_string(i.param.rows) + "rows_" + std::to_string(i.param.slots) + "slots_" +
                                  std::to_string(i.param.memories) + "memories";
                         });

}  // namespace
}  // namespace tessera::vk::test
