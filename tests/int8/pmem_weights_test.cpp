// The persistent memory's fused slot weights (ops/int8/pmem_weights.h): the portable kernel is the three
// steps it names (requantize_each, softmax_fixed_q23, requantize_each) by construction; every variant this
// machine can run must give its bits, with and without a prefetch range, on trained-like and edge inputs
// (negative and huge dots, shifts outside the SIMD range, lengths around the vector widths, a slot that
// holds all the mass so the reciprocal is 2^32).
#include "ops/int8/pmem_weights.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

#include "host_kernel_tables.h"
#include "ops/int8/requantize.h"
#include "ops/int8/softmax_fixed.h"

namespace tessera::ops::int8 {
namespace {

TEST(Int8PmemWeights, PortableIsTheThreeSteps) {
  std::mt19937 rng(5);
  const int64_t n = 300;
  std::vector<int32_t> dot(n), scores(n), p(n), want_s(n), want(n);
  std::vector<QuantizedMultiplier> sm(n), vm(n);
  for (int64_t i = 0; i < n; ++i) {
    dot[i] = int32_t(rng() % 2000001) - 1000000;
    sm[i] = {int32_t((1u << 30) + rng() % (1u << 30)), -int32_t(rng() % 10)};
    vm[i] = {int32_t((1u << 30) + rng() % (1u << 30)), -int32_t(rng() % 4)};
  }
  requantize_each_portable(dot.data(), sm.data(), n, want_s.data());
  softmax_fixed_q23(want_s.data(), n, 16, want.data());
  requantize_each_portable(want.data(), vm.data(), n, want.data());
  pmem_weights_portable(dot.data(), sm.data(), vm.data(), n, 16, scores.data(), p.data(), nullptr, 0);
  EXPECT_EQ(scores, want_s);
  EXPECT_EQ(p, want);
  // Hand-checked: two equal dots with multiplier 1/2 and shift 0 give equal scores; softmax halves the
  // mass (2^22 each) and a value weight of 1/2 halves it again.
  const int32_t two_dots[2] = {1000, 1000};
  const QuantizedMultiplier half[2] = {{1 << 30, 0}, {1 << 30, 0}};
  int32_t s2[2], p2[2];
  pmem_weights_portable(two_dots, half, half, 2, 16, s2, p2, nullptr, 0);
  EXPECT_EQ(s2[0], 500);
  EXPECT_EQ(p2[0], 1 << 21);
  EXPECT_EQ(p2[1], 1 << 21);
}

TEST(Int8PmemWeights, EveryVariantEqualsPortable) {
  std::mt19937 rng(17);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const PmemWeightsFn fn = k->pmem_weights;
    ++tested;
    for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 256, 2688}) {
      for (int trial = 0; trial < 6; ++trial) {
        std::vector<int32_t> dot(n), s_got(n), s_want(n), got(n), want(n);
        std::vector<QuantizedMultiplier> sm(n), vm(n);
        for (int64_t i = 0; i < n; ++i) {
          // trial 0: narrow dots (a flat softmax); 1: wide dots; 2: one dominant slot (reciprocal 2^32);
          // 3: shifts outside [-31, 31] in some groups (the scalar path); 4: positive shifts; 5: extremes.
          dot[i] = trial == 0 ? int32_t(rng() % 2001) - 1000 : int32_t(rng() % 40000001) - 20000000;
          if (trial == 5) dot[i] = rng() % 2 ? INT32_MAX - int32_t(rng() % 3) : INT32_MIN + int32_t(rng() % 3);
          sm[i] = {int32_t((1u << 30) + rng() % (1u << 30)), -int32_t(rng() % 12)};
          vm[i] = {int32_t((1u << 30) + rng() % (1u << 30)), -int32_t(rng() % 8)};
          if (trial == 3 && rng() % 40 == 0) sm[i].shift = -40;
          if (trial == 3 && rng() % 40 == 0) vm[i].shift = 35;
          if (trial == 4) sm[i].shift = int32_t(rng() % 3);
        }
        if (trial == 2) {
          for (auto& x : dot) x = -20000000;
          dot[size_t(rng() % uint32_t(n))] = 20000000;
        }
        std::vector<int8_t> ahead(4096, 1);
        pmem_weights_portable(dot.data(), sm.data(), vm.data(), n, 16, s_want.data(), want.data(), nullptr, 0);
        fn(dot.data(), sm.data(), vm.data(), n, 16, s_got.data(), got.data(), trial % 2 ? ahead.data() : nullptr,
           ahead.size());
        ASSERT_EQ(s_got, s_want) << k->name << " n=" << n << " trial=" << trial;
        ASSERT_EQ(got, want) << k->name << " n=" << n << " trial=" << trial;
      }
    }
    // In place: the scores may overwrite the dots (the runtime's call).
    std::vector<int32_t> dot(100), copy, got(100), want(100), s(100);
    std::vector<QuantizedMultiplier> m(100, QuantizedMultiplier{1 << 30, -2});
    for (auto& x : dot) x = int32_t(rng() % 100001) - 50000;
    copy = dot;
    pmem_weights_portable(dot.data(), m.data(), m.data(), 100, 16, s.data(), want.data(), nullptr, 0);
    fn(copy.data(), m.data(), m.data(), 100, 16, copy.data(), got.data(), nullptr, 0);
    ASSERT_EQ(got, want) << "in place, " << k->name;
  }
  std::printf("pmem_weights variants tested: %d\n", tested);
  EXPECT_GE(tested, 1);
}

}  // namespace
}  // namespace tessera::ops::int8
