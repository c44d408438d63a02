// The choice of an int8 kernel table (ops/int8/int8_kernels.h): a table runs only on a CPU that has every
// feature its files are compiled with (runtime/ops/CMakeLists.txt), checked with synthetic feature sets so
// that the x86 rules are tested on any host; and every table is complete.
#include <gtest/gtest.h>

#include "host_kernel_tables.h"

namespace tessera::ops::int8 {
namespace {

namespace f = cpu_feature;

bool built(Isa isa) { return isa == Isa::kPortable || &int8_kernels_for(isa) != &int8_kernels_for(Isa::kPortable); }

TEST(Int8Kernels, Avx512TableNeedsEveryFeatureItsFilesAreCompiledWith) {
  if (!built(Isa::kAvx512Vnni)) GTEST_SKIP() << "no AVX-512 table in this build";
  const CpuFeatures all = f::avx2 | f::avx512f | f::avx512bw | f::avx512vl | f::avx512vnni;
  EXPECT_EQ(isa_required_features(Isa::kAvx512Vnni), all);
  EXPECT_TRUE(isa_supported(Isa::kAvx512Vnni, all));
  EXPECT_EQ(fastest_isa(all), Isa::kAvx512Vnni);
  // A CPU with AVX-512F/BW and VNNI but not VL (four of the table's files use VL instructions) must not get
  // the table; it gets AVX2. Likewise without any one of the others.
  const CpuFeatures no_vl = f::avx2 | f::avx512f | f::avx512bw | f::avx512vnni;
  EXPECT_FALSE(isa_supported(Isa::kAvx512Vnni, no_vl));
  EXPECT_EQ(fastest_isa(no_vl), Isa::kAvx2);
  for (CpuFeatures missing : {f::avx2, f::avx512f, f::avx512bw, f::avx512vl, f::avx512vnni})
    EXPECT_FALSE(isa_supported(Isa::kAvx512Vnni, all & ~missing)) << "without feature bit " << missing;
}

TEST(Int8Kernels, Avx2TableNeedsAvx2) {
  if (!built(Isa::kAvx2)) GTEST_SKIP() << "no AVX2 table in this build";
  EXPECT_EQ(isa_required_features(Isa::kAvx2), f::avx2);
  EXPECT_TRUE(isa_supported(Isa::kAvx2, f::avx2));
  EXPECT_FALSE(isa_supported(Isa::kAvx2, f::avx512f | f::avx512bw | f::avx512vl | f::avx512vnni));
  EXPECT_EQ(fastest_isa(f::avx2), Isa::kAvx2);
}

TEST(Int8Kernels, NeonDotTableNeedsDotprod) {
  if (!built(Isa::kNeonDot)) GTEST_SKIP() << "no NEON dot-product table in this build";
  EXPECT_TRUE(isa_supported(Isa::kNeonDot, f::dotprod));
  EXPECT_FALSE(isa_supported(Isa::kNeonDot, 0));
}

TEST(Int8Kernels, PortableRunsEverywhereAndIsTheFallback) {
  EXPECT_TRUE(isa_supported(Isa::kPortable, 0));
  EXPECT_EQ(fastest_isa(0), Isa::kPortable);
  for (Isa isa : kAllIsas) {
    if (isa != Isa::kPortable) {
      EXPECT_FALSE(isa_supported(isa, 0)) << isa_name(isa);
    }
    if (!built(isa)) {
      EXPECT_FALSE(isa_supported(isa, ~CpuFeatures(0))) << isa_name(isa) << " is not built";
    }
  }
}

TEST(Int8Kernels, TheHostRunsTheFastestTableItSupports) {
  const Isa fastest = fastest_isa(host_cpu_features());
  EXPECT_TRUE(isa_supported(fastest, host_cpu_features()));
  EXPECT_EQ(int8_kernels_for(fastest).isa, fastest);
  std::printf("host kernel table: %s\n", int8_kernels_for(fastest).name);
}

TEST(Int8Kernels, EveryTableIsCompleteAndNamed) {
  for (Isa isa : kAllIsas) {
    if (!built(isa)) continue;
    const Int8Kernels& k = int8_kernels_for(isa);
    EXPECT_EQ(k.isa, isa);
    EXPECT_STREQ(k.name, isa_name(isa));
    const bool entries[] = {k.matvec != nullptr,
                            k.matvec_q16 != nullptr,
                            k.axpy != nullptr,
                            k.value_sum != nullptr,
                            k.cos_scores != nullptr,
                            k.softmax_q23 != nullptr,
                            k.pmem_weights != nullptr,
                            k.mix_heads != nullptr,
                            k.l2norm != nullptr,
                            k.layernorm != nullptr,
                            k.layernorm_wide != nullptr,
                            k.requantize_each != nullptr,
                            k.requantize_rows != nullptr,
                            k.requantize_rows_add != nullptr,
                            k.requantize64 != nullptr,
                            k.requantize64_add != nullptr,
                            k.requantize_uniform_int8 != nullptr,
                            k.requantize_uniform_wide != nullptr,
                            k.requantize64_uniform_int8 != nullptr,
                            k.requantize64_uniform_wide != nullptr,
                            k.value_sum_i8 != nullptr};
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); ++i)
      EXPECT_TRUE(entries[i]) << k.name << ": entry " << i << " is null";
  }
}

}  // namespace
}  // namespace tessera::ops::int8
