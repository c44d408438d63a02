// q·M_k on the column-quad layout (ops/int8/matvec_q16_quads.h): the portable quad kernel and the VNNI
// one equal matvec_q16_portable on the row layout bit for bit over the whole int16 query range (-32768
// and the byte-split edges ±255/±256 included) and |W| ≤ 127, for row counts around the 16-row blocks
// and widths cols % 4 == 0 up to the contract's limit.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "host_kernel_tables.h"
#include "ops/int8/matvec_q16.h"
#include "ops/int8/matvec_q16_quads.h"

namespace tessera::ops::int8 {
namespace {

void check(MatvecQ16QuadsFn fn, const char* name, std::mt19937& rng) {
  const int16_t edges[] = {-32768, -32767, -32513, -256, -255, -129, -128, -1, 0, 1, 127, 128, 255, 256, 32767};
  for (int64_t rows : {1, 15, 16, 17, 64, 80, 256, 300})
    for (int64_t cols : {4, 8, 16, 24, 32, 64, 128, 508})
      for (int trial = 0; trial < 3; ++trial) {
        std::vector<int8_t> w(static_cast<size_t>(rows * cols)), wq(w.size());
        std::vector<int16_t> q(static_cast<size_t>(cols));
        std::vector<int32_t> want(static_cast<size_t>(rows)), got(want.size(), 7);
        for (auto& x : w) x = trial == 2 ? int8_t(rng() % 2 ? 127 : -127) : int8_t(int(rng() % 255) - 127);
        for (auto& x : q)
          x = trial == 0 ? int16_t(int(rng() % 65536) - 32768) : edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
        matvec_q16_portable(w.data(), rows, cols, q.data(), want.data());
        matvec_q16_quads_layout(w.data(), rows, cols, wq.data());
        fn(wq.data(), rows, cols, q.data(), got.data());
        ASSERT_EQ(got, want) << name << " rows=" << rows << " cols=" << cols << " trial=" << trial;
      }
}

TEST(Int8MatvecQ16Quads, PortableEqualsRowLayout) {
  std::mt19937 rng(41);
  check(matvec_q16_quads_portable, "portable", rng);
}

TEST(Int8MatvecQ16Quads, DispatchedVariantEqualsRowLayout) {
  std::mt19937 rng(42);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    if (MatvecQ16QuadsFn fn = k->matvec_q16_quads) {
      check(fn, k->name, rng);
      ++tested;
    }
  }
  std::printf("matvec_q16 quad variants tested: %d\n", tested);
}

}  // namespace
}  // namespace tessera::ops::int8
