// The matvec of every kernel table this machine can run is bit-identical to the portable kernel, which in
// turn equals an int64 reference sum. Shapes cover SIMD tails (cols not a multiple of 64, rows not
// a multiple of 4) and the extreme values ±127.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "host_kernel_tables.h"

namespace tessera::ops::int8 {
namespace {

std::vector<int8_t> random_int8(size_t n, std::mt19937& rng) {  // weights: [-127, 127]
  std::vector<int8_t> v(n);
  for (auto& x : v) x = int8_t(int(rng() % 255) - 127);
  return v;
}
std::vector<int8_t> random_activations(size_t n, std::mt19937& rng) {  // activations: [-128, 127]
  std::vector<int8_t> v(n);
  for (auto& x : v) x = int8_t(int(rng() % 256) - 128);
  return v;
}

TEST(Int8MatvecInt8, PortableEqualsInt64Reference) {
  std::mt19937 rng(7);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {5, 33}, {17, 100}, {64, 768}}) {
    auto w = random_int8(size_t(rows * cols), rng), x = random_activations(size_t(cols), rng);
    std::vector<int32_t> y(static_cast<size_t>(rows));
    matvec_i8_portable(w.data(), rows, cols, x.data(), y.data());
    for (int64_t r = 0; r < rows; ++r) {
      int64_t ref = 0;
      for (int64_t c = 0; c < cols; ++c) ref += int64_t(w[size_t(r * cols + c)]) * x[size_t(c)];
      ASSERT_EQ(y[size_t(r)], ref);
    }
  }
}

TEST(Int8MatvecInt8, SimdVariantsBitIdenticalToPortable) {
  std::mt19937 rng(8);
  int tested = 0;
  for (const Int8Kernels* k : host_kernel_tables()) {
    ++tested;
    MatvecFn fn = k->matvec;
    for (int64_t rows : {1, 3, 4, 7, 16, 17, 31, 48, 64, 130, 256})  // 256 + narrow cols: the VNNI narrow-row path
      for (int64_t cols : {1, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 192, 768, 1000}) {  // % 64: 16-row blocks
        auto w = random_int8(size_t(rows * cols), rng), x = random_activations(size_t(cols), rng);
        std::vector<int32_t> ref(static_cast<size_t>(rows)), got(static_cast<size_t>(rows), 12345);
        matvec_i8_portable(w.data(), rows, cols, x.data(), ref.data());
        fn(w.data(), rows, cols, x.data(), got.data());
        ASSERT_EQ(got, ref) << k->name << " rows=" << rows << " cols=" << cols;
      }
    // Worst case for maddubs saturation: all ±127 with matching/opposite signs.
    const int64_t rows = 8, cols = 4096;
    std::vector<int8_t> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(cols));
    for (size_t i = 0; i < w.size(); ++i) w[i] = (i / cols) % 2 ? -127 : 127;
    for (size_t i = 0; i < x.size(); ++i) x[i] = i % 3 ? -128 : 127;
    std::vector<int32_t> ref(rows), got(rows);
    matvec_i8_portable(w.data(), rows, cols, x.data(), ref.data());
    fn(w.data(), rows, cols, x.data(), got.data());
    ASSERT_EQ(got, ref) << k->name << " extremes";
  }
  std::printf("kernel tables tested on this CPU: %d\n", tested);
}

}  // namespace
}  // namespace tessera::ops::int8
