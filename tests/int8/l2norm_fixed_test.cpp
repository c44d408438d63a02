// Per-head L2 normalisation (ops/int8/l2norm_fixed.h): every dispatched variant equals l2norm_fixed_q15
// bit for bit — head widths on and off the 16-lane chunks (8, 12, 16, 24, 32, 64), zero heads, one-hot
// heads, values up to the int32 limits (the portable kernel's shifted path), and the forward pass's range.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ops/int8/l2norm_fixed.h"
#include "host_kernel_tables.h"

namespace tessera::ops::int8 {
namespace {

TEST(Int8L2Norm, VariantsBitIdenticalToPortable) {
  std::mt19937_64 rng(61);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const L2NormFn fn = k->l2norm;
    ++tested;
    for (int64_t d : {1, 8, 12, 16, 24, 32, 64})
      for (int trial = 0; trial < 400; ++trial) {
        const int64_t H = 1 + int64_t(rng() % 8);
        std::vector<int32_t> v(static_cast<size_t>(H * d));
        const int bits = int(rng() % 32);  // magnitudes up to 2^bits
        for (auto& x : v) {
          x = int32_t(int64_t(rng() >> (64 - bits - 1) >> 1) * (rng() % 2 ? 1 : -1));
          if (trial % 9 == 0 && rng() % 8 == 0) x = rng() % 2 ? INT32_MAX : INT32_MIN;
        }
        if (trial % 7 == 0)  // a zero head and a one-hot head
          for (int64_t i = 0; i < d; ++i) {
            v[size_t(i)] = 0;
            if (H > 1) v[size_t(d + i)] = i == 0 ? int32_t(rng() % 1000) - 500 : 0;
          }
        std::vector<int16_t> want(v.size(), 7), got(v.size(), 7);
        l2norm_fixed_q15(v.data(), H, d, want.data());
        fn(v.data(), H, d, got.data());
        ASSERT_EQ(got, want) << k->name << " d=" << d << " trial=" << trial;
      }
  }
  std::printf("l2norm variants tested: %d\n", tested);
}

}  // namespace
}  // namespace tessera::ops::int8
