// Portable int8 matvec, run-time dispatch and the blocked matmul (see matvec_int8.h).
#include "ops/int8/matvec_int8.h"

namespace tessera::ops::int8 {

void matvec_i8_portable(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    int32_t acc = 0;
    for (int64_t c = 0; c < cols; ++c) acc += int32_t(wr[c]) * int32_t(x[c]);
    y[r] = acc;
  }
}

const char* matvec_kernel_name(MatvecKernel k) {
  switch (k) {
    case MatvecKernel::kAuto: return "auto";
    case MatvecKernel::kPortable: return "portable";
    case MatvecKernel::kAvx2: return "avx2";
    case MatvecKernel::kAvx512Vnni: return "avx512-vnni";
    case MatvecKernel::kNeonDot: return "neon-dot";
    case MatvecKernel::kCortexMDsp: return "cortex-m-dsp";
    case MatvecKernel::kHelium: return "helium";
  }
  return "?";
}

bool matvec_kernel_available(MatvecKernel k) {
  switch (k) {
    case MatvecKernel::kAuto:
    case MatvecKernel::kPortable: return true;
#if defined(TESSERA_HAVE_X86_SIMD)
    case MatvecKernel::kAvx2: return __builtin_cpu_supports("avx2");
    case MatvecKernel::kAvx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vnni");
#endif
#if defined(TESSERA_HAVE_NEON_DOT)
    case MatvecKernel::kNeonDot: return neon_dot_supported();
#endif
#if defined(TESSERA_HAVE_CORTEX_M_DSP)
    case MatvecKernel::kCortexMDsp: return true;  // built for a CPU that has it
#endif
#if defined(TESSERA_HAVE_HELIUM)
    case MatvecKernel::kHelium: return true;
#endif
    default: return false;
  }
}

MatvecKernel resolve_matvec_kernel(MatvecKernel requested) {
  if (requested == MatvecKernel::kAuto) {
    const MatvecKernel fastest_first[] = {MatvecKernel::kAvx512Vnni, MatvecKernel::kAvx2, MatvecKernel::kNeonDot,
                                          MatvecKernel::kHelium, MatvecKernel::kCortexMDsp};
    for (MatvecKernel k : fastest_first)
      if (matvec_kernel_available(k)) return k;
    return MatvecKernel::kPortable;
  }
  return matvec_kernel_available(requested) ? requested : MatvecKernel::kPortable;
}

MatvecFn matvec_function(MatvecKernel k) {
  switch (k) {
#if defined(TESSERA_HAVE_X86_SIMD)
    case MatvecKernel::kAvx2: return matvec_i8_avx2;
    case MatvecKernel::kAvx512Vnni: return matvec_i8_avx512vnni;
#endif
#if defined(TESSERA_HAVE_NEON_DOT)
    case MatvecKernel::kNeonDot: return matvec_i8_neon_dot;
#endif
#if defined(TESSERA_HAVE_CORTEX_M_DSP)
    case MatvecKernel::kCortexMDsp: return matvec_i8_cortex_m_dsp;
#endif
#if defined(TESSERA_HAVE_HELIUM)
    case MatvecKernel::kHelium: return matvec_i8_helium;
#endif
    default: return matvec_i8_portable;
  }
}

AxpyFn axpy_function(MatvecKernel k) {
  switch (k) {
#if defined(TESSERA_HAVE_X86_SIMD)
    case MatvecKernel::kAvx2:
    case MatvecKernel::kAvx512Vnni: return axpy_i8_avx2;  // VNNI CPUs have AVX2
#endif
#if defined(TESSERA_HAVE_HELIUM)
    case MatvecKernel::kHelium: return axpy_i8_helium;
#endif
    default: return axpy_i8_portable;
  }
}

AxpyQuadsFn axpy_quads_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return axpy_quads_avx512vnni;
#endif
  (void)k;
  return nullptr;
}

ValueSumFn value_sum_function(MatvecKernel k) {
  switch (k) {
#if defined(TESSERA_HAVE_X86_SIMD)
    case MatvecKernel::kAvx2: return value_sum_i16_avx2;
    case MatvecKernel::kAvx512Vnni: return value_sum_i16_avx512;
#endif
    default: return value_sum_i16_portable;
  }
}

MatvecQ16Fn matvec_q16_function(MatvecKernel k) {
  switch (k) {
#if defined(TESSERA_HAVE_X86_SIMD)
    case MatvecKernel::kAvx2: return matvec_q16_avx2;
    case MatvecKernel::kAvx512Vnni: return matvec_q16_avx512;
#endif
#if defined(TESSERA_HAVE_HELIUM)
    case MatvecKernel::kHelium: return matvec_q16_helium;
#endif
#if defined(TESSERA_HAVE_CORTEX_M_DSP)
    case MatvecKernel::kCortexMDsp: return matvec_q16_cortex_m_dsp;
#endif
    default: return matvec_q16_portable;
  }
}

RequantizeFn requantize_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return requantize_each_avx512;
#endif
#if defined(TESSERA_HAVE_HELIUM)
  if (k == MatvecKernel::kHelium) return requantize_each_helium;
#endif
  (void)k;
  return requantize_each_portable;
}

SoftmaxQ23Fn softmax_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return softmax_fixed_q23_avx512;
#endif
  (void)k;
  return softmax_fixed_q23;
}

RequantizeUniformInt8Fn requantize_uniform_int8_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return requantize_uniform_to_int8_avx512;
#endif
  (void)k;
  return requantize_uniform_to_int8;
}

RequantizeUniformWideFn requantize_uniform_wide_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return requantize_uniform_to_wide_avx512;
#endif
  (void)k;
  return requantize_uniform_to_wide;
}

MixHeadsFn mix_heads_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return mix_heads_fixed_avx512;
#endif
  (void)k;
  return mix_heads_fixed;
}

PmemWeightsFn pmem_weights_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return pmem_weights_avx512;
#endif
#if defined(TESSERA_HAVE_HELIUM)
  if (k == MatvecKernel::kHelium) return pmem_weights_helium;
#endif
  (void)k;
  return pmem_weights_portable;
}

CosScoresFn cos_scores_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return cos_scores_avx512;
#endif
  (void)k;
  return cos_scores_portable;
}

MatvecQ16QuadsFn matvec_q16_quads_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return matvec_q16_quads_avx512vnni;
#endif
  (void)k;
  return nullptr;
}

RequantizeRowsFn requantize_rows_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return requantize_to_int32_avx512;
#endif
  (void)k;
  return requantize_to_int32;
}

RequantizeRowsFn requantize_rows_add_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return requantize_add_to_int32_avx512;
#endif
  (void)k;
  return requantize_add_to_int32;
}

Requantize64Fn requantize64_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return requantize64_to_int32_avx512;
#endif
  (void)k;
  return requantize64_to_int32;
}

Requantize64Fn requantize64_add_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return requantize64_add_to_int32_avx512;
#endif
  (void)k;
  return requantize64_add_to_int32;
}

L2NormFn l2norm_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return l2norm_fixed_q15_avx512;
#endif
  (void)k;
  return l2norm_fixed_q15;
}

LayerNormFn layernorm_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return layernorm_fixed_avx512;
#endif
  (void)k;
  return layernorm_fixed;
}

LayerNormWideFn layernorm_wide_function(MatvecKernel k) {
#if defined(TESSERA_HAVE_X86_SIMD)
  if (k == MatvecKernel::kAvx512Vnni) return layernorm_fixed_wide_avx512;
#endif
  (void)k;
  return layernorm_fixed_wide;
}

}  // namespace tessera::ops::int8
