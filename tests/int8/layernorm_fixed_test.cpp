// Fixed-point LayerNorm (ops/int8/layernorm_fixed.h): every dispatched variant (int8 and int16 outputs)
// equals the portable kernel bit for bit — widths 1..200 (masked tails), residuals from small to the int32
// limits (the portable kernel's shifted path), ε from 0 up, and output scales that saturate or not.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ops/int8/layernorm_fixed.h"
#include "host_kernel_tables.h"

namespace tessera::ops::int8 {
namespace {

TEST(Int8LayerNorm, VariantsBitIdenticalToPortable) {
  std::mt19937_64 rng(71);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    const LayerNormFn fn = k->layernorm;
    const LayerNormWideFn fn_wide = k->layernorm_wide;
    ++tested;
    for (int64_t n : {1, 7, 8, 9, 33, 128, 192, 200})
      for (int trial = 0; trial < 300; ++trial) {
        std::vector<int32_t> x(static_cast<size_t>(n));
        const int bits = int(rng() % 32);
        const int32_t offset = trial % 3 == 0 ? int32_t(rng() % 100000) - 50000 : 0;
        for (auto& v : x) {
          v = int32_t(int64_t(rng() >> (64 - bits - 1) >> 1) * (rng() % 2 ? 1 : -1) / 2) + offset;
          if (trial % 11 == 0 && rng() % 8 == 0) v = rng() % 2 ? INT32_MAX : INT32_MIN;
        }
        const uint64_t eps = trial % 4 == 0 ? 0 : rng() >> (20 + rng() % 40);
        const QuantizedMultiplier inv{int32_t((1u << 30) + rng() % (1u << 30)), int32_t(rng() % 20) - 2};
        std::vector<int8_t> want(x.size(), 7), got(x.size(), 7);
        std::vector<int16_t> want_w(x.size(), 7), got_w(x.size(), 7);
        layernorm_fixed(x.data(), n, eps, inv, want.data());
        fn(x.data(), n, eps, inv, got.data());
        ASSERT_EQ(got, want) << k->name << " n=" << n << " trial=" << trial;
        layernorm_fixed_wide(x.data(), n, eps, inv, want_w.data());
        fn_wide(x.data(), n, eps, inv, got_w.data());
        ASSERT_EQ(got_w, want_w) << k->name << " wide n=" << n << " trial=" << trial;
      }
  }
  std::printf("layernorm variants tested: %d\n", tested);
}

}  // namespace
}  // namespace tessera::ops::int8
