// The persistent-memory kernels against a float64 oracle written here: leaky query from the carried
// state, softmax over the slots of q · M_k, Σ p M_v, value scale, two memories averaged
// (accumulate), the state advanced once; slots F32, F16 and I8 (per-slot scales), N not a multiple
// of the chunk or slot tile. 3 rows take the row kernel (shaders/pmem_softmax.comp), 70 rows the
// tiled one (shaders/pmem_prefill.comp; a partial last row tile), 300 rows fewer slot splits (the
// scratch's partial budget shared by more rows). The second memory's dispatch
// reuses the completion counters, which must all be back at 0 at the end.
#include <cmath>

#include "vk_test_util.h"
#include "vulkan/gpu_model.h"

namespace tessera::vk::test {
namespace {

class VulkanPmem : public VulkanTest, public ::testing::WithParamInterface<std::tuple<DType, uint32_t>> {};

TEST_P(VulkanPmem, MatchesFloat64) {
  const auto [dt, n] = GetParam();
  const uint32_t H = 2, d = 16, C = H * d, N = 300, P = 2;
  std::mt19937 rng(11);
  const size_t slots = size_t(P) * H * N;
  std::vector<float> mk = random_floats(slots * d, rng), mv = random_floats(slots * d, rng);
  std::vector<double> kref(mk.size()), vref(mv.size());
  LayerWeights w;
  if (dt == DType::kI8) {
    std::vector<int8_t> qk(mk.size()), qv(mv.size());
    std::vector<float> ks(slots), vs(slots);
    for (size_t s = 0; s < slots; ++s) {
      ks[s] = 0.008f + 0.00001f * float(s);
      vs[s] = 0.009f - 0.00001f * float(s % 500);
      for (size_t i = 0; i < d; ++i) {
        size_t e = s * d + i;
        qk[e] = int8_t(std::lround(mk[e] * 127));
        qv[e] = int8_t(std::lround(mv[e] * 127));
        kref[e] = double(qk[e]) * ks[s];
        vref[e] = double(qv[e]) * vs[s];
      }
    }
    w.pmem_mem_k = i8_tensor("mk", {P, H, N, d}, qk);
    w.pmem_mem_v = i8_tensor("mv", {P, H, N, d}, qv);
    w.pmem_mem_k_scale = f32_tensor("mks", {P, H, N}, ks);
    w.pmem_mem_v_scale = f32_tensor("mvs", {P, H, N}, vs);
  } else if (dt == DType::kF16) {
    w.pmem_mem_k = f16_tensor("mk", {P, H, N, d}, mk);
    w.pmem_mem_v = f16_tensor("mv", {P, H, N, d}, mv);
    for (size_t e = 0; e < mk.size(); ++e) {
      kref[e] = half_to_float(float_to_half(mk[e]));
      vref[e] = half_to_float(float_to_half(mv[e]));
    }
  } else {
    w.pmem_mem_k = f32_tensor("mk", {P, H, N, d}, mk);
    w.pmem_mem_v = f32_tensor("mv", {P, H, N, d}, mv);
    kref.assign(mk.begin(), mk.end());
    vref.assign(mv.begin(), mv.end());
  }
  auto up = upload_pmem_slots(*ctx_, w, d, "test ");
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  EXPECT_EQ(int(up->wtype), int(dt == DType::kF32   ? WeightType::kF32
                                : dt == DType::kF16 ? WeightType::kF16
                                                    : WeightType::kI8));
  std::vector<float> u = random_floats(size_t(n) * C, rng), state0 = random_floats(C, rng);
  std::vector<float> decay = {0.3f, 0.85f}, qscale = {3.0f, 7.5f}, vscale = {0.9f, 1.3f};
  std::vector<float> y0 = random_floats(size_t(n) * C, rng);
  BufferSlice us = upload(u), ss = upload(state0), ds = upload(decay), qs = upload(qscale), vss = upload(vscale);
  BufferSlice out = upload(y0);
  auto scratch = make_pmem_scratch(*ctx_, ctx_->weights(), n, H, d, N);
  ASSERT_TRUE(scratch.ok()) << scratch.status().to_string();
  const float eps = 1e-6f;
  run([&](Recording& rec) {
    for (uint32_t i = 0; i < P; ++i) {
      PmemCall c;
      c.channels = C;
      c.heads = H;
      c.head_dim = d;
      c.slots = N;
      c.rows = n;
      c.slot_base = i * H * N;
      c.u = us;
      c.state = ss;
      c.decay = ds;
      c.qscale = qs;
      c.vscale = vss;
      c.out = out;
      c.accumulate = i > 0;
      c.update_state = i + 1 == P;
      c.scale = 1.0f / P;
      c.eps = eps;
      EXPECT_EQ(pmem_uses_tiles(*ctx_, c), n >= 16) << "rows " << n;
      TESSERA_RETURN_IF_ERROR(record_pmem(rec, *ctx_, c, *up, *scratch));
      rec.barrier();
    }
    return Status::ok_status();
  });
  std::vector<float> got = download(out, size_t(n) * C), state = download(ss, C);
  std::vector<float> counters = download(scratch->counters, size_t(n + 1) * H);
  for (float c : counters) EXPECT_EQ(c, 0.0f);
  for (uint32_t h = 0; h < H; ++h) {
    std::vector<double> s(state0.begin() + h * d, state0.begin() + (h + 1) * d);
    for (uint32_t r = 0; r < n; ++r) {
      double nn = 0;
      for (uint32_t i = 0; i < d; ++i) {
        s[i] = decay[h] * s[i] + (1.0 - decay[h]) * u[r * C + h * d + i];
        nn += s[i] * s[i];
      }
      std::vector<double> q(d), o(d, 0.0);
      for (uint32_t i = 0; i < d; ++i) q[i] = qscale[h] * s[i] / (std::sqrt(nn) + eps);
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
          for (uint32_t i = 0; i < d; ++i) o[i] += std::exp(sc[j] - mx) / z * vref[(base + j) * d + i] / P;
      }
      for (uint32_t i = 0; i < d; ++i) {
        // fp32 softmax over 300 slots and sums of unit-sized terms (both kernels: compensated scores,
        // fp32 exp and weighted sums in different orders): ~1e-6 relative; 2e-5 leaves margin.
        double want = vscale[h] * o[i];
        EXPECT_NEAR(got[r * C + h * d + i], want, 2e-5 + 2e-5 * std::abs(want)) << "row " << r << " head " << h;
      }
    }
    for (uint32_t i = 0; i < d; ++i) EXPECT_NEAR(state[h * d + i], s[i], 1e-6) << "state " << h * d + i;
  }
}

INSTANTIATE_TEST_SUITE_P(SlotTypesAndRows, VulkanPmem,
                         ::testing::Combine(::testing::Values(DType::kF32, DType::kF16, DType::kI8),
                                            ::testing::Values(3u, 70u, 300u)));

// The tiled kernel's plan fits each profile's limits (the pipeline's shared memory, read from its
// SPIR-V, is checked against the effective limit when the tests above run under the profiles).
TEST(VulkanPmemTile, FitsProfileLimits) {
  struct Case {
    uint32_t invocations, shared, head_dim;
  };
  for (const Case& k : {Case{1024, 49152, 64}, Case{128, 32768, 64}, Case{256, 16384, 64}, Case{256, 16384, 128},
                        Case{128, 32768, 16}}) {
    PmemTile t = pmem_prefill_tile_for(k.invocations, k.shared, k.head_dim);
    ASSERT_TRUE(t.valid()) << k.invocations << " " << k.shared << " " << k.head_dim;
    EXPECT_LE(t.workgroup, k.invocations);
    EXPECT_EQ(t.rows % (t.workgroup / 16), 0u);
    EXPECT_EQ(t.slots % 16, 0u);
    const uint32_t bytes = 4 * (k.head_dim * t.rows + t.slots * k.head_dim + t.rows * t.slots + t.rows * 16);
    EXPECT_LE(bytes, k.shared);
  }
  EXPECT_FALSE(pmem_prefill_tile_for(256, 49152, 24).valid()) << "head size not a multiple of 16";
}

}  // namespace
}  // namespace tessera::vk::test
