// The persistent-memory kernel (shaders/pmem_softmax.comp) against a float64 oracle written here:
// leaky query from the carried state, softmax over the slots of q · M_k, Σ p M_v, value scale, two
// memories averaged (accumulate), the state advanced once; slots F32, F16 and I8 (per-slot
// scales), N not a multiple of the chunk, several rows. The second memory's dispatch reuses the
// completion counters, which must all be back at 0 at the end.
#include <cmath>

#include "vk_test_util.h"
#include "vulkan/gpu_model.h"

namespace tessera::vk::test {
namespace {

class VulkanPmem : public VulkanTest, public ::testing::WithParamInterface<DType> {};

TEST_P(VulkanPmem, MatchesFloat64) {
  const DType dt = GetParam();
  const uint32_t H = 2, d = 16, C = H * d, N = 300, P = 2, n = 3;
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
  EXPECT_EQ(int(up->wtype), int(dt == DType::kF32 ? WeightType::kF32 : dt == DType::kF16 ? WeightType::kF16
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
        // fp32 softmax over 300 slots and sums of unit-sized terms: ~1e-6 relative; 2e-5 leaves margin.
        double want = vscale[h] * o[i];
        EXPECT_NEAR(got[r * C + h * d + i], want, 2e-5 + 2e-5 * std::abs(want)) << "row " << r << " head " << h;
      }
    }
    for (uint32_t i = 0; i < d; ++i) EXPECT_NEAR(state[h * d + i], s[i], 1e-6) << "state " << h * d + i;
  }
}

INSTANTIATE_TEST_SUITE_P(SlotTypes, VulkanPmem, ::testing::Values(DType::kF32, DType::kF16, DType::kI8));

// Decode with the key projection inside the dispatch: u = W LN(x) + b (F16 W, LayerNorm weight and
// bias), then as above; F16 slots, one memory, one row.
using VulkanPmemProjection = VulkanTest;
TEST_F(VulkanPmemProjection, MatchesFloat64) {
  const uint32_t H = 2, d = 16, C = H * d, N = 300;
  std::mt19937 rng(17);
  std::vector<float> mk = random_floats(size_t(H) * N * d, rng), mv = random_floats(size_t(H) * N * d, rng);
  LayerWeights lw;
  lw.pmem_mem_k = f16_tensor("mk", {1, H, N, d}, mk);
  lw.pmem_mem_v = f16_tensor("mv", {1, H, N, d}, mv);
  auto up = upload_pmem_slots(*ctx_, lw, d, "test ");
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  std::vector<float> wv = random_floats(C * C, rng), bias = random_floats(C, rng, -0.1f, 0.1f);
  std::vector<float> g = random_floats(C, rng, 0.5f, 1.5f), b = random_floats(C, rng, -0.2f, 0.2f);
  std::vector<float> x = random_floats(C, rng, -2.0f, 3.0f), state0 = random_floats(C, rng);
  Matrix m;
  m.rows = m.cols = C;
  m.weight = f16_tensor("pk", {C, C}, wv);
  m.bias = f32_tensor("pk.bias", {C}, bias);
  auto gm = upload_matrix(*ctx_, m, "pk");
  ASSERT_TRUE(gm.ok()) << gm.status().to_string();
  Norm nm;
  nm.weight = f32_tensor("g", {C}, g);
  nm.bias = f32_tensor("b", {C}, b);
  auto gn = upload_norm(*ctx_, nm, C, "ln2");
  ASSERT_TRUE(gn.ok());
  std::vector<float> decay = {0.4f, 0.75f}, qscale = {5.0f, 2.5f}, vscale = {1.1f, 0.7f};
  BufferSlice xs = upload(x), ss = upload(state0), ds = upload(decay), qs = upload(qscale), vss = upload(vscale);
  BufferSlice out = zeros(C);
  auto scratch = make_pmem_scratch(*ctx_, ctx_->weights(), 1, H, d, N);
  ASSERT_TRUE(scratch.ok());
  run([&](Recording& rec) {
    PmemCall c;
    c.channels = C;
    c.heads = H;
    c.head_dim = d;
    c.slots = N;
    c.rows = 1;
    c.u = ctx_->dummy();
    c.state = ss;
    c.decay = ds;
    c.qscale = qs;
    c.vscale = vss;
    c.out = out;
    c.eps = 1e-6f;
    c.proj = &*gm;
    c.x = {xs, 0, C};
    c.ln = &*gn;
    c.ln_eps = 1e-5f;
    return record_pmem(rec, *ctx_, c, *up, *scratch);
  });
  std::vector<float> got = download(out, C), state = download(ss, C);
  double mean = 0, var = 0;
  for (float v : x) mean += v;
  mean /= C;
  for (float v : x) var += (v - mean) * (v - mean);
  double rstd = 1.0 / std::sqrt(var / C + 1e-5);
  std::vector<double> u(C);
  for (uint32_t o = 0; o < C; ++o) {
    u[o] = bias[o];
    for (uint32_t k = 0; k < C; ++k)
      u[o] += double(half_to_float(float_to_half(wv[o * C + k]))) * ((x[k] - mean) * rstd * g[k] + b[k]);
  }
  for (uint32_t h = 0; h < H; ++h) {
    std::vector<double> s(d), q(d), o(d, 0.0);
    double nn = 0;
    for (uint32_t i = 0; i < d; ++i) {
      s[i] = decay[h] * state0[h * d + i] + (1.0 - decay[h]) * u[h * d + i];
      nn += s[i] * s[i];
    }
    for (uint32_t i = 0; i < d; ++i) q[i] = qscale[h] * s[i] / (std::sqrt(nn) + 1e-6);
    std::vector<double> sc(N);
    double mx = -1e300, z = 0;
    for (uint32_t j = 0; j < N; ++j) {
      double t = 0;
      for (uint32_t i = 0; i < d; ++i) t += q[i] * half_to_float(float_to_half(mk[(h * N + j) * d + i]));
      sc[j] = t;
      mx = std::max(mx, t);
    }
    for (uint32_t j = 0; j < N; ++j) z += std::exp(sc[j] - mx);
    for (uint32_t j = 0; j < N; ++j)
      for (uint32_t i = 0; i < d; ++i)
        o[i] += std::exp(sc[j] - mx) / z * half_to_float(float_to_half(mv[(h * N + j) * d + i]));
    for (uint32_t i = 0; i < d; ++i) {
      // u carries fp32 dot-product rounding (~1e-6 relative) into q: 5e-5 leaves margin.
      EXPECT_NEAR(got[h * d + i], vscale[h] * o[i], 5e-5) << "head " << h << " channel " << i;
      EXPECT_NEAR(state[h * d + i], s[i], 1e-5) << "state " << h * d + i;
    }
  }
}

}  // namespace
}  // namespace tessera::vk::test
