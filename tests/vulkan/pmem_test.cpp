// The persistent-memory kernels against a float64 oracle written here: leaky query from the carried
// state, softmax over the slots of q · M_k, Σ p M_v, value scale, two memories averaged
// (accumulate), the state advanced once; slots F32, F16 and I8 (per-slot scales), N not a multiple
// of the chunk or slot tile. 3 rows take the row kernel (shaders/pmem_softmax.comp), 70 rows the
// tiled one (shaders/pmem_prefill.comp; a partial last row tile), 300 rows fewer slot splits (the
// scratch's partial budget shared by more rows). The second memory's dispatch
// reuses the completion counters, which must all be back at 0 at the end. One decode row with its
// key projection inside (shaders/pmem_decode.comp): q from W_k LayerNorm(x) + b.
#include <cmath>

#include "vk_test_util.h"
#include "vulkan/gpu_model.h"

namespace tessera::vk::test {
namespace {

// P memories of H heads x N slots of size d in `dt`, and their values as the kernels see them.
struct Slots {
  LayerWeights w;
  std::vector<double> kref, vref;
  std::vector<float> key_scale, value_scale;  // per slot (I8), for pmem_params
};
Slots make_slots(DType dt, uint32_t P, uint32_t H, uint32_t N, uint32_t d, std::mt19937& rng) {
  Slots out;
  const size_t slots = size_t(P) * H * N;
  std::vector<float> mk = random_floats(slots * d, rng), mv = random_floats(slots * d, rng);
  std::vector<double>& kref = out.kref;
  std::vector<double>& vref = out.vref;
  kref.resize(mk.size());
  vref.resize(mv.size());
  LayerWeights& w = out.w;
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
    out.key_scale = ks;
    out.value_scale = vs;
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
  return out;
}

// The average over the P memories of softmax(q · M_k) M_v for head h, in float64.
std::vector<double> pmem_oracle(const Slots& sl, const std::vector<double>& q, uint32_t h, uint32_t P, uint32_t H,
                                uint32_t N, uint32_t d) {
  std::vector<double> o(d, 0.0);
  for (uint32_t p = 0; p < P; ++p) {
    size_t base = (size_t(p) * H + h) * N;
    std::vector<double> sc(N);
    double mx = -1e300, z = 0;
    for (uint32_t j = 0; j < N; ++j) {
      double t = 0;
      for (uint32_t i = 0; i < d; ++i) t += q[i] * sl.kref[(base + j) * d + i];
      sc[j] = t;
      mx = std::max(mx, t);
    }
    for (uint32_t j = 0; j < N; ++j) z += std::exp(sc[j] - mx);
    for (uint32_t j = 0; j < N; ++j)
      for (uint32_t i = 0; i < d; ++i) o[i] += std::exp(sc[j] - mx) / z * sl.vref[(base + j) * d + i] / P;
  }
  return o;
}

class VulkanPmem : public VulkanTest, public ::testing::WithParamInterface<std::tuple<DType, uint32_t>> {};

TEST_P(VulkanPmem, MatchesFloat64) {
  const auto [dt, n] = GetParam();
  const uint32_t H = 2, d = 16, C = H * d, N = 300, P = 2;
  std::mt19937 rng(11);
  Slots sl = make_slots(dt, P, H, N, d, rng);
  const LayerWeights& w = sl.w;
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
  auto params = pmem_params(C, H, {}, {}, {}, {}, decay, qscale, vscale, sl.key_scale, sl.value_scale);
  ASSERT_TRUE(params.ok()) << params.status().to_string();
  BufferSlice ps = upload(*params);
  auto scratch = make_pmem_scratch(*ctx_, ctx_->weights(), n, H, d, N);
  ASSERT_TRUE(scratch.ok()) << scratch.status().to_string();
  const float eps = 1e-6f;
  run([&](Recording& rec) {
    for (uint32_t i = 0; i < P; ++i) {
      const PmemCall c = pmem_test_call(H, d, N, n, i, P, {us, ss, ps, ds, qs, vss, out}, eps);
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
      std::vector<double> q(d);
      for (uint32_t i = 0; i < d; ++i) q[i] = qscale[h] * s[i] / (std::sqrt(nn) + eps);
      std::vector<double> o = pmem_oracle(sl, q, h, P, H, N, d);
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

// One decode row with the key projection in the kernel: u = W_k LN(x) + b (F32, F16 or I8 weights
// like the slots), two memories, the state advanced by the second.
class VulkanPmemDecode : public VulkanTest, public ::testing::WithParamInterface<DType> {};

// 2 heads; 20 heads: rows of C = 320 are more 16-byte units per lane than the kernel loads ahead
// (matvec_core.glsl PF) on an 8-wide subgroup (F32, F16).
TEST_P(VulkanPmemDecode, MatchesFloat64) {
  const DType dt = GetParam();
  for (uint32_t H : {2u, 20u}) {
    SCOPED_TRACE(H);
    const uint32_t d = 16, C = H * d, N = 300, P = 2;
    std::mt19937 rng(12);
    Slots sl = make_slots(dt, P, H, N, d, rng);
    auto up = upload_pmem_slots(*ctx_, sl.w, d, "test ");
    ASSERT_TRUE(up.ok()) << up.status().to_string();
    std::vector<float> wk = random_floats(size_t(C) * C, rng, -0.3f, 0.3f), bias = random_floats(C, rng);
    std::vector<float> x = random_floats(2 * C, rng, -2.0f, 3.0f), g = random_floats(C, rng, 0.5f, 1.5f);
    std::vector<float> b = random_floats(C, rng), state0 = random_floats(C, rng), y0 = random_floats(C, rng);
    std::vector<double> wref(wk.begin(), wk.end());
    std::vector<float> row_scale;  // I8 weights
    Matrix m;
    m.rows = m.cols = C;
    if (dt == DType::kF32) {
      m.weight = f32_tensor("wk", {C, C}, wk);
    } else if (dt == DType::kF16) {
      m.weight = f16_tensor("wk", {C, C}, wk);
      for (size_t i = 0; i < wk.size(); ++i) wref[i] = half_to_float(float_to_half(wk[i]));
    } else {
      std::vector<int8_t> q(wk.size());
      std::vector<float> scale(C);
      for (uint32_t r = 0; r < C; ++r) {
        scale[r] = 0.002f + 0.0001f * float(r);
        for (uint32_t c = 0; c < C; ++c) {
          q[r * C + c] = int8_t(std::lround(wk[r * C + c] * 127));
          wref[r * C + c] = double(q[r * C + c]) * scale[r];
        }
      }
      m.weight = i8_tensor("wk", {C, C}, q);
      m.scale = f32_tensor("wks", {C}, scale);
      row_scale = scale;
    }
    m.bias = f32_tensor("bk", {C}, bias);
    auto gm = upload_matrix(*ctx_, m, "pmem_k");
    ASSERT_TRUE(gm.ok()) << gm.status().to_string();
    Norm nm;
    nm.weight = f32_tensor("g", {C}, g);
    nm.bias = f32_tensor("b", {C}, b);
    auto gn = upload_norm(*ctx_, nm, C, "ln");
    ASSERT_TRUE(gn.ok());
    std::vector<float> decay = random_floats(H, rng, 0.2f, 0.9f), qscale = random_floats(H, rng, 2.0f, 8.0f);
    std::vector<float> vscale = random_floats(H, rng, 0.8f, 1.4f);
    auto params = pmem_params(C, H, row_scale, bias, g, b, decay, qscale, vscale, sl.key_scale, sl.value_scale);
    ASSERT_TRUE(params.ok()) << params.status().to_string();
    BufferSlice xs = upload(x), ss = upload(state0), hs = upload(*params), out = upload(y0);
    auto scratch = make_pmem_scratch(*ctx_, ctx_->weights(), 1, H, d, N);
    ASSERT_TRUE(scratch.ok()) << scratch.status().to_string();
    ASSERT_TRUE(pmem_decode_usable(*ctx_, *gm, d, N, *scratch));
    const float eps = 1e-6f, ln_eps = 1e-5f;
    run([&](Recording& rec) {
      for (uint32_t i = 0; i < P; ++i) {
        PmemDecodeCall c;
        c.channels = C;
        c.heads = H;
        c.head_dim = d;
        c.slots = N;
        c.slot_base = i * H * N;
        c.w = &*gm;
        c.x = {xs, C, C};  // the second row of x
        c.ln = &*gn;
        c.ln_eps = ln_eps;
        c.state = ss;
        c.params = hs;
        c.out = out;
        c.accumulate = i > 0;
        c.update_state = i + 1 == P;
        c.scale = 1.0f / P;
        c.eps = eps;
        TESSERA_RETURN_IF_ERROR(record_pmem_decode(rec, *ctx_, c, *up, *scratch));
        rec.barrier();
      }
      return Status::ok_status();
    });
    std::vector<float> got = download(out, C), state = download(ss, C);
    for (float c : download(scratch->counters, H)) EXPECT_EQ(c, 0.0f);
    double mean = 0, var = 0;
    for (uint32_t k = 0; k < C; ++k) mean += x[C + k] / double(C);
    for (uint32_t k = 0; k < C; ++k) var += (x[C + k] - mean) * (x[C + k] - mean) / double(C);
    std::vector<double> xn(C);
    for (uint32_t k = 0; k < C; ++k) xn[k] = (x[C + k] - mean) / std::sqrt(var + ln_eps) * g[k] + b[k];
    for (uint32_t h = 0; h < H; ++h) {
      std::vector<double> s(d), q(d), abs_sum(d, 0.0);
      double nn = 0;
      for (uint32_t i = 0; i < d; ++i) {
        double u = bias[h * d + i];
        for (uint32_t k = 0; k < C; ++k) {
          u += wref[size_t(h * d + i) * C + k] * xn[k];
          abs_sum[i] += std::abs(wref[size_t(h * d + i) * C + k] * xn[k]);
        }
        s[i] = decay[h] * state0[h * d + i] + (1.0 - decay[h]) * u;
        nn += s[i] * s[i];
      }
      for (uint32_t i = 0; i < d; ++i) q[i] = qscale[h] * s[i] / (std::sqrt(nn) + eps);
      std::vector<double> o = pmem_oracle(sl, q, h, P, H, N, d);
      for (uint32_t i = 0; i < d; ++i) {
        // As above, plus the fp32 projection before the normalisation (the mat-vec's bound,
        // 1e-5 sum |w x'|, on u, a relative error of q far below the scores' 2e-5).
        double want = vscale[h] * o[i];  // the first memory overwrites out (y0)
        EXPECT_NEAR(got[h * d + i], want, 2e-5 + 2e-5 * std::abs(want)) << "head " << h << " channel " << i;
        // The state: the leaky step of u, so (1 - a) times the projection's bound.
        const double state_tol = 1e-6 + 1e-5 * (1.0 - decay[h]) * abs_sum[i];
        EXPECT_NEAR(state[h * d + i], s[i], state_tol) << "state " << h * d + i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SlotTypes, VulkanPmemDecode, ::testing::Values(DType::kF32, DType::kF16, DType::kI8));

// The scratch is one buffer (the kernels' one binding) whose parts — partials, statistics, counters —
// do not overlap and start at offsets the device can bind on their own (pmem_prefill_coopmat_nv.comp
// binds them separately); under android-baseline-2022 the alignment is 256 bytes.
class VulkanPmemScratch : public VulkanTest {};
TEST_F(VulkanPmemScratch, OneBufferOfAlignedParts) {
  const VkDeviceSize align = ctx_->device().limits().minStorageBufferOffsetAlignment;
  for (uint32_t rows : {1u, 3u, 70u}) {
    auto s = make_pmem_scratch(*ctx_, ctx_->weights(), rows, 3, 16, 300);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    for (const BufferSlice* part : {&s->partial, &s->stats, &s->counters}) {
      EXPECT_EQ(part->buffer, s->scratch.buffer);
      EXPECT_EQ(part->offset % align, 0u) << "rows " << rows;
      EXPECT_EQ(part->offset % 16, 0u) << "rows " << rows;
    }
    EXPECT_EQ(s->partial.offset, s->scratch.offset);
    EXPECT_LE(s->partial.offset + s->partial.size, s->stats.offset);
    EXPECT_LE(s->stats.offset + s->stats.size, s->counters.offset);
    EXPECT_LE(s->counters.offset + s->counters.size, s->scratch.offset + s->scratch.size);
    EXPECT_EQ(s->counters.size, VkDeviceSize(rows + 1) * 3 * 4);
    for (float c : download(s->counters, size_t(rows + 1) * 3)) EXPECT_EQ(c, 0.0f);
  }
}

// The decode kernel keeps a thread's key and value units of a slot in registers, at most 32 of each
// (shaders/pmem_decode.comp MAX_UNITS): head size 128 with F32 slots is the largest it takes; a head of
// 256 is refused (decode then runs the projection and pmem_softmax).
TEST_F(VulkanPmemScratch, DecodeKernelTakesHeadsUpTo128) {
  for (const uint32_t d : {128u, 256u}) {
    Matrix m;
    m.rows = m.cols = d;
    m.weight = f32_tensor("wk", {d, d}, std::vector<float>(size_t(d) * d, 0.01f));
    auto gm = upload_matrix(*ctx_, m, "pmem_k");
    ASSERT_TRUE(gm.ok()) << gm.status().to_string();
    auto scratch = make_pmem_scratch(*ctx_, ctx_->weights(), 1, 1, d, 300);
    ASSERT_TRUE(scratch.ok()) << scratch.status().to_string();
    const bool fits_workgroup = pmem_decode_workgroup(*ctx_, d) != 0;
    EXPECT_EQ(pmem_decode_usable(*ctx_, *gm, d, 300, *scratch), d == 128 && fits_workgroup) << "head size " << d;
  }
}

// The per-layer parameter buffer in the order shaders/pmem_params.glsl reads it (the kernels' results
// above depend on it; this states the layout and the errors on its own).
TEST(VulkanPmemParams, LayoutAndBadSizes) {
  const uint32_t C = 8, H = 2;
  std::vector<float> bias(C), ln_weight(C);
  for (uint32_t i = 0; i < C; ++i) {
    bias[i] = 0.5f + float(i);
    ln_weight[i] = 2.0f + float(i);
  }
  auto p = pmem_params(C, H, {}, bias, ln_weight, {}, {0.3f, 0.8f}, {3.0f, 7.5f}, {0.9f, 1.3f}, {10.0f, 11.0f, 12.0f},
                       {20.0f, 21.0f, 22.0f});
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  ASSERT_EQ(p->size(), size_t(4 * C + 3 * H + 6));
  for (uint32_t i = 0; i < C; ++i) {
    EXPECT_EQ((*p)[i], 1.0f) << "row scale " << i;  // F32 weights: no scales
    EXPECT_EQ((*p)[C + i], bias[i]);
    EXPECT_EQ((*p)[2 * C + i], ln_weight[i]);
    EXPECT_EQ((*p)[3 * C + i], 0.0f) << "LayerNorm bias " << i;  // absent: zeros
  }
  const std::vector<float> tail(p->begin() + 4 * C, p->end());
  EXPECT_EQ(tail, (std::vector<float>{0.3f, 0.8f, 3.0f, 7.5f, 0.9f, 1.3f, 10.0f, 20.0f, 11.0f, 21.0f, 12.0f, 22.0f}));

  auto wrong_decay = pmem_params(C, H, {}, {}, {}, {}, {0.3f, 0.8f, 0.1f}, {3.0f, 7.5f}, {0.9f, 1.3f}, {}, {});
  ASSERT_FALSE(wrong_decay.ok());
  EXPECT_EQ(wrong_decay.status().message(), "vulkan: pmem key decay: expected 2 values, found 3");
  auto no_query_scale = pmem_params(C, H, {}, {}, {}, {}, {0.3f, 0.8f}, {}, {0.9f, 1.3f}, {}, {});
  ASSERT_FALSE(no_query_scale.ok());
  EXPECT_EQ(no_query_scale.status().message(), "vulkan: pmem query scale: expected 2 values, found 0");
  auto short_bias = pmem_params(C, H, {}, {1.0f}, {}, {}, {0.3f, 0.8f}, {3.0f, 7.5f}, {0.9f, 1.3f}, {}, {});
  ASSERT_FALSE(short_bias.ok());
  EXPECT_EQ(short_bias.status().message(), "vulkan: pmem pmem_k bias: expected 8 values, found 1");
  auto unpaired = pmem_params(C, H, {}, {}, {}, {}, {0.3f, 0.8f}, {3.0f, 7.5f}, {0.9f, 1.3f}, {1.0f}, {});
  ASSERT_FALSE(unpaired.ok());
  EXPECT_EQ(unpaired.status().message(), "vulkan: pmem slot scales: 1 key and 0 value scales, expected as many");
}

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
