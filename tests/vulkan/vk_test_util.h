// Shared by the Vulkan tests: a context with VK_LAYER_KHRONOS_validation whose every warning or
// error fails the test; SKIP when no Vulkan device exists (FAIL in CI with lavapipe: vk_required.h); float
// upload/readback helpers.
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "vk_required.h"
#include "vulkan/context.h"
#include "vulkan/instance.h"
#include "vulkan/ops.h"
#include "vulkan/recording.h"

namespace tessera::vk::test {

// The device-limits profile this run plans under (--vulkan-profile=NAME, test_main.cpp; "full" by default).
const std::string& test_profile();

// SKIP without a Vulkan device; under a requested profile any other failure (e.g. the device does
// not meet the profile) fails the test, so a profile run cannot pass by skipping.
inline bool skip_without_device(const Status& s) {
  return s.code() == StatusCode::kUnavailable || test_profile() == "full";
}

class VulkanTest : public ::testing::Test {
 protected:
  virtual void customize(ContextOptions&) {}
  void SetUp() override {
    (void)take_validation_messages();
    ContextOptions o;
    o.validation = true;
    o.profile = test_profile();
    customize(o);
    auto c = Context::create(o);
    if (!c.ok() && skip_without_device(c.status()))
      TESSERA_VK_NO_DEVICE("no usable Vulkan device with validation: " << c.status().to_string());
    ASSERT_TRUE(c.ok()) << "profile " << test_profile() << ": " << c.status().to_string();
    ctx_ = std::move(c).value();
  }
  void TearDown() override {
    ctx_.reset();  // object destruction is validated too
    for (const auto& m : take_validation_messages()) ADD_FAILURE() << "Vulkan validation: " << m;
  }
  BufferSlice upload(const std::vector<float>& v) {
    auto s = ctx_->upload_floats(v, "test input");
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? s.value() : BufferSlice{};
  }
  BufferSlice zeros(size_t floats) {
    auto s = ctx_->weights().allocate(std::max<size_t>(floats, 1) * 4, "test output");
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE(ctx_->fill_zero(s.value()).ok());
    return s.value();
  }
  std::vector<float> download(const BufferSlice& s, size_t floats) {
    std::vector<float> out(floats);
    Status st = ctx_->read(s, std::as_writable_bytes(std::span<float>(out)));
    EXPECT_TRUE(st.ok()) << st.to_string();
    return out;
  }
  // `count` key/value cache elements: floats, or with f16 the IEEE halves 2 per word (shaders/kv_cache.glsl).
  std::vector<float> download_cache(const BufferSlice& s, size_t count, bool f16) {
    if (!f16) return download(s, count);
    std::vector<float> words = download(s, (count + 1) / 2), out(count);
    for (size_t i = 0; i < count; ++i)
      out[i] = half_to_float(uint16_t(std::bit_cast<uint32_t>(words[i / 2]) >> (16 * (i % 2))));
    return out;
  }
  // Records with `body`, submits once, waits.
  void run(const std::function<Status(Recording&)>& body) {
    auto rec = Recording::create(*ctx_, 0);
    ASSERT_TRUE(rec.ok()) << rec.status().to_string();
    ASSERT_TRUE((*rec)->begin().ok());
    Status s = body(**rec);
    ASSERT_TRUE(s.ok()) << s.to_string();
    ASSERT_TRUE((*rec)->end().ok());
    Status sub = (*rec)->submit();
    ASSERT_TRUE(sub.ok()) << sub.to_string();
  }
  std::unique_ptr<Context> ctx_;
};

// One query (head 0, d wide) over n fixed keys and values, unit β² and output scale: the decode attention
// call that the single-row attention tests record.
inline AttentionCall one_row_attention(const AttentionMethod& method, uint32_t n, uint32_t d, const BufferSlice& step,
                                       const BufferSlice& q, const BufferSlice& keys, const BufferSlice& values,
                                       const BufferSlice& one, const BufferSlice& relu, const BufferSlice& out) {
  AttentionCall a;
  a.method = method;
  a.heads = 1;
  a.head_dim = a.out_stride = a.q_stride = d;
  a.step = step;
  a.q = q;
  a.keys = keys;
  a.values = values;
  a.k_key_stride = a.v_key_stride = d;
  a.mask_offset = 0;
  a.nkeys_fixed = n;
  a.head_scale = a.out_scale = one;
  a.relu_params = relu;
  a.out = out;
  return a;
}

// The persistent-memory tests' buffers: key projections u [n, C], the carried state, pmem_params(), the
// per-head decay, β'² and value scale, and the output rows.
struct PmemTestBuffers {
  BufferSlice u, state, params, decay, qscale, vscale, out;
};
// Memory i of P over n rows (C = H d channels, N slots per head): slots from i·H·N, accumulated into out
// after the first, weight 1/P, the last one advancing the state.
inline PmemCall pmem_test_call(uint32_t H, uint32_t d, uint32_t N, uint32_t n, uint32_t i, uint32_t P,
                               const PmemTestBuffers& b, float eps) {
  PmemCall c;
  c.channels = H * d;
  c.heads = H;
  c.head_dim = d;
  c.slots = N;
  c.rows = n;
  c.slot_base = i * H * N;
  c.u = b.u;
  c.state = b.state;
  c.params = b.params;
  c.decay = b.decay;
  c.qscale = b.qscale;
  c.vscale = b.vscale;
  c.out = b.out;
  c.accumulate = i > 0;
  c.update_state = i + 1 == P;
  c.scale = 1.0f / float(P);
  c.eps = eps;
  return c;
}

inline std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

inline Tensor f32_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
  return make_f32_tensor(name, std::move(shape), v);
}

inline Tensor f16_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
  std::vector<std::byte> bytes(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    uint16_t h = float_to_half(v[i]);
    std::memcpy(bytes.data() + 2 * i, &h, 2);
  }
  return make_owned_tensor(name, DType::kF16, std::move(shape), std::move(bytes));
}

inline Tensor i8_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<int8_t>& q) {
  std::vector<std::byte> bytes(q.size());
  std::memcpy(bytes.data(), q.data(), q.size());
  return make_owned_tensor(name, DType::kI8, std::move(shape), std::move(bytes));
}

}  // namespace tessera::vk::test
