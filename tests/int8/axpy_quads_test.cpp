// The persistent memory's value sum on the slot-quad layout (ops/int8/axpy_quads.h): the portable quad
// kernel and the VNNI one equal axpy_i8_portable on the original row layout bit for bit, for weights in
// the forward pass's range (0 ≤ p' < 2^24 with Σ p' ≤ 2^23, zeros included) and head widths covering the
// 16-column blocks, the 8-column block and the scalar column tail; rows beyond one 256-row chunk too.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ops/int8/axpy_int8.h"
#include "ops/int8/axpy_quads.h"
#include "host_kernel_tables.h"

namespace tessera::ops::int8 {
namespace {

void check(AxpyQuadsFn fn, const char* name, std::mt19937& rng) {
  for (int64_t rows : {4, 8, 12, 256, 260, 896})
    for (int64_t cols : {1, 7, 8, 16, 24, 32, 40, 64, 100, 136, 192}) {
      for (int trial = 0; trial < 4; ++trial) {
        std::vector<int8_t> v(static_cast<size_t>(rows * cols)), vq(v.size());
        std::vector<int32_t> a(static_cast<size_t>(rows)), want(static_cast<size_t>(cols));
        for (auto& x : v) x = int8_t(int(rng() % 255) - 127);
        // trial 0: one weight holds all the mass (its bytes reach every plane); else spread, some zero.
        for (auto& x : a) x = trial == 0 ? 0 : (rng() % 5 == 0 ? 0 : int32_t(rng() % ((1u << 23) / uint32_t(rows))));
        if (trial == 0) a[size_t(rng() % uint32_t(rows))] = (1 << 23) - int32_t(rng() % 3);
        for (auto& x : want) x = int32_t(rng() % (1u << 20)) - (1 << 19);
        std::vector<int32_t> got = want;
        axpy_i8_portable(a.data(), v.data(), rows, cols, want.data());
        axpy_quads_layout(v.data(), rows, cols, vq.data());
        fn(a.data(), vq.data(), rows, cols, got.data());
        ASSERT_EQ(got, want) << name << " rows=" << rows << " cols=" << cols << " trial=" << trial;
      }
    }
}

TEST(Int8AxpyQuads, PortableEqualsRowLayoutAxpy) {
  std::mt19937 rng(21);
  check(axpy_quads_portable, "portable", rng);
}

TEST(Int8AxpyQuads, DispatchedVariantEqualsRowLayoutAxpy) {
  std::mt19937 rng(22);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    if (AxpyQuadsFn fn = k->axpy_quads) {
      check(fn, k->name, rng);
      ++tested;
    }
  }
  std::printf("axpy quad variants tested: %d\n", tested);
}

}  // namespace
}  // namespace tessera::ops::int8
