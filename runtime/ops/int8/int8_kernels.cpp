// The int8 kernel tables and the CPU check (see int8_kernels.h). TESSERA_INT8_<TABLE>_FEATURES is defined
// by runtime/ops/CMakeLists.txt for each table this build compiles, from the feature list its files are
// compiled with.
#include "ops/int8/int8_kernels.h"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace tessera::ops::int8 {
namespace {

constexpr Int8Kernels kPortable = {
    .isa = Isa::kPortable,
    .name = "portable",
    .matvec = matvec_i8_portable,
    .matvec_q16 = matvec_q16_portable,
    .axpy = axpy_i8_portable,
    .value_sum = value_sum_i16_portable,
    .value_sum_i8 = value_sum_i8_portable,
    .cos_scores = cos_scores_portable,
    .softmax_q23 = softmax_fixed_q23,
    .pmem_weights = pmem_weights_portable,
    .mix_heads = mix_heads_fixed,
    .l2norm = l2norm_fixed_q15,
    .layernorm = layernorm_fixed,
    .layernorm_wide = layernorm_fixed_wide,
    .requantize_each = requantize_each_portable,
    .requantize_rows = requantize_to_int32,
    .requantize_rows_add = requantize_add_to_int32,
    .requantize64 = requantize64_to_int32,
    .requantize64_add = requantize64_add_to_int32,
    .requantize_uniform_int8 = requantize_uniform_to_int8,
    .requantize_uniform_wide = requantize_uniform_to_wide,
    .requantize64_uniform_int8 = requantize64_uniform_to_int8,
    .requantize64_uniform_wide = requantize64_uniform_to_wide,
    .axpy_quads = nullptr,
    .matvec_q16_quads = nullptr,
    .matvec_packs_narrow_rows = false,
};

// A table that replaces some of the portable kernels.
constexpr Int8Kernels derived(Int8Kernels t, Isa isa, const char* name) {
  t.isa = isa;
  t.name = name;
  return t;
}

#if defined(TESSERA_INT8_AVX2_FEATURES)
constexpr Int8Kernels make_avx2() {
  Int8Kernels t = derived(kPortable, Isa::kAvx2, "avx2");
  t.matvec = matvec_i8_avx2;
  t.matvec_q16 = matvec_q16_avx2;
  t.axpy = axpy_i8_avx2;
  t.value_sum = value_sum_i16_avx2;
  return t;
}
constexpr Int8Kernels kAvx2 = make_avx2();
#endif

#if defined(TESSERA_INT8_AVX512_VNNI_FEATURES)
constexpr Int8Kernels make_avx512_vnni() {
  Int8Kernels t = derived(kPortable, Isa::kAvx512Vnni, "avx512-vnni");
  t.matvec = matvec_i8_avx512vnni;
  t.matvec_q16 = matvec_q16_avx512;
  t.axpy = axpy_i8_avx2;  // the quads layout (axpy_quads) is the AVX-512 form
  t.value_sum = value_sum_i16_avx512;
  t.cos_scores = cos_scores_avx512;
  t.softmax_q23 = softmax_fixed_q23_avx512;
  t.pmem_weights = pmem_weights_avx512;
  t.mix_heads = mix_heads_fixed_avx512;
  t.l2norm = l2norm_fixed_q15_avx512;
  t.layernorm = layernorm_fixed_avx512;
  t.layernorm_wide = layernorm_fixed_wide_avx512;
  t.requantize_each = requantize_each_avx512;
  t.requantize_rows = requantize_to_int32_avx512;
  t.requantize_rows_add = requantize_add_to_int32_avx512;
  t.requantize64 = requantize64_to_int32_avx512;
  t.requantize64_add = requantize64_add_to_int32_avx512;
  t.requantize_uniform_int8 = requantize_uniform_to_int8_avx512;
  t.requantize_uniform_wide = requantize_uniform_to_wide_avx512;
  t.axpy_quads = axpy_quads_avx512vnni;
  t.matvec_q16_quads = matvec_q16_quads_avx512vnni;
  t.matvec_packs_narrow_rows = true;  // matvec_int8_avx512vnni.cpp
  return t;
}
constexpr Int8Kernels kAvx512Vnni = make_avx512_vnni();
#endif

#if defined(TESSERA_INT8_NEON_DOT_FEATURES)
constexpr Int8Kernels make_neon_dot() {
  Int8Kernels t = derived(kPortable, Isa::kNeonDot, "neon-dot");
  t.matvec = matvec_i8_neon_dot;
  return t;
}
constexpr Int8Kernels kNeonDot = make_neon_dot();
#endif

#if defined(TESSERA_INT8_CORTEX_M_DSP_FEATURES)
constexpr Int8Kernels make_cortex_m_dsp() {
  Int8Kernels t = derived(kPortable, Isa::kCortexMDsp, "cortex-m-dsp");
  t.matvec = matvec_i8_cortex_m_dsp;
  t.matvec_q16 = matvec_q16_cortex_m_dsp;
  return t;
}
constexpr Int8Kernels kCortexMDsp = make_cortex_m_dsp();
#endif

#if defined(TESSERA_INT8_HELIUM_FEATURES)
constexpr Int8Kernels make_helium() {
  Int8Kernels t = derived(kPortable, Isa::kHelium, "helium");
  t.matvec = matvec_i8_helium;
  t.matvec_q16 = matvec_q16_helium;
  t.axpy = axpy_i8_helium;
  t.requantize_each = requantize_each_helium;
  t.pmem_weights = pmem_weights_helium;
  return t;
}
constexpr Int8Kernels kHelium = make_helium();
#endif

// The table of `isa` in this build, or null.
const Int8Kernels* built_table(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return &kPortable;
#if defined(TESSERA_INT8_AVX2_FEATURES)
    case Isa::kAvx2: return &kAvx2;
#endif
#if defined(TESSERA_INT8_AVX512_VNNI_FEATURES)
    case Isa::kAvx512Vnni: return &kAvx512Vnni;
#endif
#if defined(TESSERA_INT8_NEON_DOT_FEATURES)
    case Isa::kNeonDot: return &kNeonDot;
#endif
#if defined(TESSERA_INT8_CORTEX_M_DSP_FEATURES)
    case Isa::kCortexMDsp: return &kCortexMDsp;
#endif
#if defined(TESSERA_INT8_HELIUM_FEATURES)
    case Isa::kHelium: return &kHelium;
#endif
    default: return nullptr;
  }
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return "portable";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512Vnni: return "avx512-vnni";
    case Isa::kNeonDot: return "neon-dot";
    case Isa::kCortexMDsp: return "cortex-m-dsp";
    case Isa::kHelium: return "helium";
  }
  return "?";
}

CpuFeatures isa_required_features(Isa isa) {
  switch (isa) {
#if defined(TESSERA_INT8_AVX2_FEATURES)
    case Isa::kAvx2: return TESSERA_INT8_AVX2_FEATURES;
#endif
#if defined(TESSERA_INT8_AVX512_VNNI_FEATURES)
    case Isa::kAvx512Vnni: return TESSERA_INT8_AVX512_VNNI_FEATURES;
#endif
#if defined(TESSERA_INT8_NEON_DOT_FEATURES)
    case Isa::kNeonDot: return TESSERA_INT8_NEON_DOT_FEATURES;
#endif
#if defined(TESSERA_INT8_CORTEX_M_DSP_FEATURES)
    case Isa::kCortexMDsp: return TESSERA_INT8_CORTEX_M_DSP_FEATURES;
#endif
#if defined(TESSERA_INT8_HELIUM_FEATURES)
    case Isa::kHelium: return TESSERA_INT8_HELIUM_FEATURES;
#endif
    default: return 0;
  }
}

bool isa_supported(Isa isa, CpuFeatures cpu) {
  const CpuFeatures needs = isa_required_features(isa);
  return built_table(isa) != nullptr && (cpu & needs) == needs;
}

CpuFeatures host_cpu_features() {
  CpuFeatures f = 0;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2")) f |= cpu_feature::avx2;
  if (__builtin_cpu_supports("avx512f")) f |= cpu_feature::avx512f;
  if (__builtin_cpu_supports("avx512bw")) f |= cpu_feature::avx512bw;
  if (__builtin_cpu_supports("avx512vl")) f |= cpu_feature::avx512vl;
  if (__builtin_cpu_supports("avx512vnni")) f |= cpu_feature::avx512vnni;
#elif defined(__aarch64__)
#if defined(__linux__) && defined(HWCAP_ASIMDDP)
  if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) f |= cpu_feature::dotprod;
#else
  f |= cpu_feature::dotprod;  // no run-time query here: a build with +dotprod is for a CPU that has it
#endif
#endif
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
  f |= cpu_feature::dsp;  // Cortex-M: the CPU the toolchain's -mcpu names
#endif
#if defined(__ARM_FEATURE_MVE)
  f |= cpu_feature::mve;
#endif
  return f;
}

Isa fastest_isa(CpuFeatures cpu) {
  const Isa fastest_first[] = {Isa::kAvx512Vnni, Isa::kAvx2, Isa::kNeonDot, Isa::kHelium, Isa::kCortexMDsp};
  for (Isa isa : fastest_first)
    if (isa_supported(isa, cpu)) return isa;
  return Isa::kPortable;
}

const Int8Kernels& int8_kernels_for(Isa isa) {
  const Int8Kernels* t = built_table(isa);
  return t ? *t : kPortable;
}

}  // namespace tessera::ops::int8
