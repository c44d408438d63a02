// The int8 value cache (`tessera quantize --value-cache int8`, ops/int8/value_sum_int8.h): the kernels
// against int64 references, the forward's cache rows against the Q7 rounding of the int16 run's, and
// the logits of both caches against the float64 reference forward.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "int8_run.h"
#include "ops/int8/value_sum_int8.h"
#include "support/random_model.h"

namespace tessera {
namespace {

using namespace testing_int8;
using testing::random_float_model;

TEST(ValueSumInt8, EqualsTheInt64SumAtTheExtremes) {
  std::mt19937 rng(5);
  for (int64_t rows : {1, 2, 7, 64, 300}) {
    const int64_t cols = 16, stride = 40;
    std::vector<int32_t> p(static_cast<size_t>(rows));
    std::vector<int8_t> v(static_cast<size_t>(rows * stride));
    for (int64_t j = 0; j < rows; ++j) p[size_t(j)] = j % 5 == 0 ? (1 << 23) : int32_t(rng() % ((1u << 23) + 1));
    for (size_t i = 0; i < v.size(); ++i) v[i] = i % 7 == 0 ? (i % 2 ? 127 : -127) : int8_t(int(rng() % 255) - 127);
    std::vector<int64_t> got(size_t(cols), 11), want(size_t(cols), 11);  // accumulates onto what is there
    ops::int8::value_sum_i8_portable(p.data(), v.data(), rows, stride, cols, got.data());
    for (int64_t j = 0; j < rows; ++j)
      for (int64_t i = 0; i < cols; ++i) want[size_t(i)] += int64_t(p[size_t(j)]) * v[size_t(j * stride + i)];
    EXPECT_EQ(got, want) << rows << " rows";
  }
}

TEST(ValueSumInt8, Q15ToQ7RoundsHalfUpAndSaturatesSymmetrically) {
  const std::vector<int16_t> in = {0, 127, 128, -128, -129, 383, 384, 32639, 32640, 32767, -32767, -32768, -32640};
  const std::vector<int8_t> want = {0, 0, 1, 0, -1, 1, 2, 127, 127, 127, -127, -127, -127};
  std::vector<int8_t> got(in.size());
  ops::int8::unit_q15_to_q7(in.data(), int64_t(in.size()), got.data());
  EXPECT_EQ(got, want);
}

// One sequence through the plan with the given value cache; returns the state's arena and logits per position.
struct CacheRun {
  std::vector<std::byte> arena;
  int8::Int8State s;
  std::vector<std::vector<int32_t>> logits;
};
CacheRun run(int8::Int8Model m, bool q7, const std::vector<int32_t>& tokens) {
  m.value_cache_int8 = q7;
  CacheRun r;
  r.arena.resize(size_t(int8::int8_state_bytes(m, int64_t(tokens.size()))) + 64);
  void* base = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(r.arena.data()) + 63) & ~uintptr_t(63));
  int8::int8_state_bind(m, int64_t(tokens.size()), base, &r.s);
  for (int32_t tok : tokens) {
    r.logits.emplace_back(size_t(m.vocab_size));
    int8::int8_forward_token(m, &r.s, tok, r.logits.back().data());
  }
  return r;
}

TEST(ValueCacheInt8, LayerZeroCachesTheQ7RoundingOfTheQ15Values) {
  quant::FloatModel fm = random_float_model(101, 32, 4, 2, 40, 3, false, false);
  Int8Run q = quantize_and_plan(fm);
  ASSERT_TRUE(q.plan);
  const auto tokens = sequences(101, 1, 20, 8)[0];
  const CacheRun wide = run(q.plan->model, false, tokens), narrow = run(q.plan->model, true, tokens);
  ASSERT_EQ(narrow.s.value_cache, nullptr);
  ASSERT_EQ(wide.s.value_cache_q7, nullptr);
  // Layer 0 sees the same inputs in both runs: equal keys, and values that differ only by the rounding.
  const int64_t C = q.plan->model.n_embd, finished = int64_t(tokens.size()) - 1;
  for (int64_t i = 0; i < finished * C; ++i) {
    ASSERT_EQ(wide.s.key_cache[i], narrow.s.key_cache[i]) << i;
    int8_t want = 0;
    ops::int8::unit_q15_to_q7(&wide.s.value_cache[i], 1, &want);
    ASSERT_EQ(narrow.s.value_cache_q7[i], want) << i;
  }
  // The logits differ (the attention reads the coarser values) but stay close.
  EXPECT_NE(wide.logits.back(), narrow.logits.back());
}

TEST(ValueCacheInt8, TracksTheFloatReferenceLikeTheInt16Cache) {
  Agreement wide, narrow, narrow_clamped;
  for (uint64_t seed : {1, 2, 3, 4}) {
    quant::FloatModel m = random_float_model(101, 32, 4, 2, 40, seed, false, seed % 2);
    Int8Run q = quantize_and_plan(m);
    ASSERT_TRUE(q.plan);
    for (const auto& seq : sequences(101, 2, 24, seed + 100)) {
      q.plan->model.value_cache_int8 = false;
      add_agreement(wide, *q.plan, m, seq);
      q.plan->model.value_cache_int8 = true;
      add_agreement(seed % 2 ? narrow_clamped : narrow, *q.plan, m, seq);
    }
  }
  const int agree8 = narrow.agree + narrow_clamped.agree, total = narrow.total + narrow_clamped.total;
  std::printf(
      "top-1 vs float64: int16 values %d/%d, int8 values %d/%d; worst max|Δlogit|/max|logit| %.4f / %.4f "
      "(clamped heads %.4f)\n",
      wide.agree, wide.total, agree8, total, wide.worst_rel, narrow.worst_rel, narrow_clamped.worst_rel);
  // Same bounds as the int16 cache's (int8_model_test.cpp AgreesWithFloatReference): a Q7 unit value errs by
  // ≤ 2^-8 per component (≤ 0.4% of a unit vector's norm at d = 8), below the int8 activations' error.
  EXPECT_GE(agree8, total * 85 / 100);
  EXPECT_LT(narrow.worst_rel, 0.06);
  EXPECT_LT(narrow_clamped.worst_rel, 0.40);
}

TEST(ValueCacheInt8, QuantizeRecordsItAndThePlanReadsIt) {
  quant::FloatModel fm = random_float_model(101, 32, 4, 2, 40, 5, false, false);
  quant::QuantizeOptions opt;
  opt.calibration_sequences = sequences(101, 4, 16, 1);
  opt.value_cache_bits = 8;
  auto q = quant::quantize_model(fm, opt);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  const Tensor* bits = quant::find_in(q->tensors, "int8.value_cache_bits");
  ASSERT_NE(bits, nullptr);
  EXPECT_EQ(bits->as<int32_t>()[0], 8);
  auto plan = testing_int8::plan_in_memory(*q, ops::int8::Isa::kPortable);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_TRUE(plan->plan->model.value_cache_int8);
  // Not 8 or 16 bits: a clear error naming the tensor.
  const int32_t four = 4;
  for (Tensor& t : q->tensors)
    if (t.name == "int8.value_cache_bits")
      t = make_owned_tensor(t.name, DType::kI32, {1},
                            {reinterpret_cast<const std::byte*>(&four), reinterpret_cast<const std::byte*>(&four) + 4});
  auto bad = testing_int8::plan_in_memory(*q, ops::int8::Isa::kPortable);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("int8.value_cache_bits"), std::string::npos) << bad.status().message();
  // Only the int8 mode has the cache.
  opt.mode = quant::QuantMode::kWeightsOnly;
  auto wrong = quant::quantize_model(fm, opt);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera
