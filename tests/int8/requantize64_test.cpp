// int64 and int32 accumulators → int32 (ops/int8/requantize.h): the dispatched requantize64 / requantize64_add
// variants equal requantize64_to_int32 / requantize64_add_to_int32 bit for bit — accumulators from 0 to
// ±2^62, multipliers M ∈ {0} ∪ [2^30, 2^31) with shifts beyond quantize_multiplier's ±31 (the scalar
// fallback), with and without bias, residuals at the int32 limits (saturation), lengths around 8 lanes.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "host_kernel_tables.h"
#include "ops/int8/requantize.h"

namespace tessera::ops::int8 {
namespace {

TEST(Int8Requantize64, VariantsBitIdenticalToScalar) {
  std::mt19937_64 rng(51);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const Requantize64Fn to32 = k->requantize64, add = k->requantize64_add;
    ++tested;
    for (int64_t n : {0, 1, 7, 8, 9, 16, 37, 128})
      for (int trial = 0; trial < 200; ++trial) {
        std::vector<int64_t> acc(static_cast<size_t>(n));
        std::vector<QuantizedMultiplier> m(static_cast<size_t>(n));
        std::vector<int32_t> bias(static_cast<size_t>(n)), res(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
          const int bits = int(rng() % 63);
          int64_t a = int64_t(rng() >> (64 - bits - 1) >> 1);
          acc[size_t(i)] = rng() % 2 ? -a : a;
          if (rng() % 16 == 0) acc[size_t(i)] = 0;
          m[size_t(i)] = {int32_t((1u << 30) + (rng() % (1u << 30))), int32_t(rng() % 41) - 20};
          if (trial % 7 == 0) m[size_t(i)].shift = int32_t(rng() % 81) - 40;  // scalar fallback groups
          if (rng() % 32 == 0) m[size_t(i)].multiplier = 0;
          bias[size_t(i)] = int32_t(rng());
          res[size_t(i)] = rng() % 4 == 0
                               ? (rng() % 2 ? INT32_MAX - int32_t(rng() % 5) : INT32_MIN + int32_t(rng() % 5))
                               : int32_t(rng());
        }
        const int32_t* b = trial % 2 ? bias.data() : nullptr;
        std::vector<int32_t> want(static_cast<size_t>(n)), got(static_cast<size_t>(n)), want_r = res, got_r = res;
        requantize64_to_int32(acc.data(), m.data(), b, n, want.data());
        to32(acc.data(), m.data(), b, n, got.data());
        ASSERT_EQ(got, want) << k->name << " n=" << n << " trial=" << trial;
        requantize64_add_to_int32(acc.data(), m.data(), b, n, want_r.data());
        add(acc.data(), m.data(), b, n, got_r.data());
        ASSERT_EQ(got_r, want_r) << k->name << " add n=" << n << " trial=" << trial;
      }
  }
  std::printf("requantize64 variants tested: %d\n", tested);
}

// requantize_each on groups where every x ≥ 0 and every shift ≤ 0 (the VNNI variant's short path: the
// softmax weights, most score groups), with mixed groups around them; x up to INT32_MAX, shifts -31..0.
TEST(Int8RequantizeEach, NonNegativeGroupsBitIdenticalToScalar) {
  std::mt19937_64 rng(53);
  for (const Int8Kernels* k : host_kernel_tables()) {
    const RequantizeFn fn = k->requantize_each;
    for (int trial = 0; trial < 3000; ++trial) {
      const int64_t n = 1 + int64_t(rng() % 70);
      std::vector<int32_t> x(static_cast<size_t>(n)), got(x.size());
      std::vector<QuantizedMultiplier> m(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        const uint32_t pick = uint32_t(rng() % 6);
        x[i] = pick == 0   ? INT32_MAX
               : pick == 1 ? 0
               : pick == 2 ? int32_t(rng() % ((1u << 23) + 1))
                           : int32_t(rng() >> 33);
        if (trial % 5 == 0 && rng() % 16 == 0) x[i] = -int32_t(rng() % 1000) - 1;  // a mixed group
        m[i] = {rng() % 16 == 0 ? 0 : int32_t((1u << 30) + rng() % (1u << 30)), -int32_t(rng() % 32)};
        if (trial % 7 == 0 && rng() % 16 == 0) m[i].shift = int32_t(rng() % 5);
      }
      fn(x.data(), m.data(), n, got.data());
      for (size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(got[i], multiply_by_quantized_multiplier(x[i], m[i]))
            << k->name << " x=" << x[i] << " M=" << m[i].multiplier << " shift=" << m[i].shift;
    }
  }
}

// The int32 per-row requantisations (requantize_rows / requantize_rows_add): accumulators and biases over
// the whole int32 range (the biased sum saturates), residuals at the limits, shifts beyond ±31 included.
TEST(Int8RequantizeRows, VariantsBitIdenticalToScalar) {
  std::mt19937_64 rng(52);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const RequantizeRowsFn to32 = k->requantize_rows, add = k->requantize_rows_add;
    ++tested;
    for (int64_t n : {0, 1, 15, 16, 17, 40, 128})
      for (int trial = 0; trial < 200; ++trial) {
        std::vector<int32_t> acc(static_cast<size_t>(n)), bias(acc.size()), res(acc.size());
        std::vector<QuantizedMultiplier> m(acc.size());
        for (size_t i = 0; i < acc.size(); ++i) {
          const int bits = int(rng() % 32);
          acc[i] = int32_t(int64_t(rng() >> (63 - bits)) * (rng() % 2 ? 1 : -1) / 2);
          if (rng() % 16 == 0) acc[i] = rng() % 2 ? INT32_MAX : INT32_MIN;
          bias[i] = rng() % 8 == 0 ? int32_t(rng()) : int32_t(rng() % 20001) - 10000;
          m[i] = {int32_t((1u << 30) + (rng() % (1u << 30))), int32_t(rng() % 63) - 31};
          if (trial % 9 == 0) m[i].shift = int32_t(rng() % 81) - 40;
          if (rng() % 32 == 0) m[i].multiplier = 0;
          res[i] = rng() % 4 == 0 ? (rng() % 2 ? INT32_MAX - int32_t(rng() % 5) : INT32_MIN + int32_t(rng() % 5))
                                  : int32_t(rng());
        }
        const int32_t* b = trial % 2 ? bias.data() : nullptr;
        std::vector<int32_t> want(acc.size()), got(acc.size()), want_r = res, got_r = res;
        requantize_to_int32(acc.data(), m.data(), b, n, want.data());
        to32(acc.data(), m.data(), b, n, got.data());
        ASSERT_EQ(got, want) << k->name << " n=" << n << " trial=" << trial;
        requantize_add_to_int32(acc.data(), m.data(), b, n, want_r.data());
        add(acc.data(), m.data(), b, n, got_r.data());
        ASSERT_EQ(got_r, want_r) << k->name << " add n=" << n << " trial=" << trial;
      }
  }
  std::printf("requantize_rows variants tested: %d\n", tested);
}

}  // namespace
}  // namespace tessera::ops::int8
