// The int8 kernels of one instruction set, as one table: the fixed-point core (cpu_int8/int8_forward.cpp)
// calls every kernel through the table its model was given at load, chosen once per model. Every table
// gives the portable table's bits (exact integer arithmetic; tested per kernel and on whole models).
//
// Each SIMD table's files are compiled with one feature list (runtime/ops/CMakeLists.txt), and the same
// list reaches int8_kernels.cpp as the table's required CPU features: a CPU lacking any feature a file is
// compiled with never runs that table.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

#include "ops/int8/axpy_int8.h"
#include "ops/int8/axpy_quads.h"
#include "ops/int8/cos_scores.h"
#include "ops/int8/l2norm_fixed.h"
#include "ops/int8/layernorm_fixed.h"
#include "ops/int8/leaky_average_fixed.h"
#include "ops/int8/matvec_int8.h"
#include "ops/int8/matvec_q16.h"
#include "ops/int8/matvec_q16_quads.h"
#include "ops/int8/pmem_weights.h"
#include "ops/int8/requantize.h"
#include "ops/int8/softmax_fixed.h"
#include "ops/int8/value_sum_int16.h"
#include "ops/int8/value_sum_int8.h"

namespace tessera::ops::int8 {

// The instruction set a kernel table is built for.
enum class Isa : uint8_t { kPortable, kAvx2, kAvx512Vnni, kNeonDot, kCortexMDsp, kHelium };
inline constexpr Isa kAllIsas[] = {Isa::kPortable, Isa::kAvx2,       Isa::kAvx512Vnni,
                                   Isa::kNeonDot,  Isa::kCortexMDsp, Isa::kHelium};

// CPU features as bits, named as the compilers spell them (-mavx512vl, +dotprod, ...).
using CpuFeatures = uint32_t;
namespace cpu_feature {
inline constexpr CpuFeatures avx2 = 1u << 0;
inline constexpr CpuFeatures avx512f = 1u << 1;
inline constexpr CpuFeatures avx512bw = 1u << 2;
inline constexpr CpuFeatures avx512vl = 1u << 3;
inline constexpr CpuFeatures avx512vnni = 1u << 4;
inline constexpr CpuFeatures dotprod = 1u << 5;  // Arm NEON dot product (asimddp)
inline constexpr CpuFeatures dsp = 1u << 6;      // Cortex-M DSP extension
inline constexpr CpuFeatures mve = 1u << 7;      // Cortex-M Helium (M-profile vector extension)
}  // namespace cpu_feature

struct Int8Kernels {
  Isa isa;
  const char* name;                      // "portable", "avx2", "avx512-vnni", "neon-dot", "cortex-m-dsp", "helium"
  MatvecFn matvec;                       // int8 projections (matvec_int8.h)
  MatvecQ16Fn matvec_q16;                // q·M_k in one pass (matvec_q16.h)
  AxpyFn axpy;                           // the persistent memory's Σ p'·M_v (axpy_int8.h)
  ValueSumFn value_sum;                  // the attention's Σ p·v̂ (value_sum_int16.h)
  ValueSumI8Fn value_sum_i8;             // the same over an int8 value cache (value_sum_int8.h)
  CosScoresFn cos_scores;                // the contextual q·k scores (cos_scores.h)
  SoftmaxQ23Fn softmax_q23;              // contextual and persistent-memory softmax (softmax_fixed.h)
  PmemWeightsFn pmem_weights;            // per-bank slot weights of an int8 M_k (pmem_weights.h)
  MixHeadsFn mix_heads;                  // leaky averages and the value mix (leaky_average_fixed.h)
  L2NormFn l2norm;                       // per-head unit keys, values, queries (l2norm_fixed.h)
  LayerNormFn layernorm;                 // LN1, LN2, the final norm into int8 (layernorm_fixed.h)
  LayerNormWideFn layernorm_wide;        // the same into an int16 site
  RequantizeFn requantize_each;          // one multiplier per value (requantize.h)
  RequantizeRowsFn requantize_rows;      // int32 accumulators (+ bias) → int32
  RequantizeRowsFn requantize_rows_add;  // the same added to the residual
  Requantize64Fn requantize64;           // int64 accumulators (+ bias) → int32
  Requantize64Fn requantize64_add;       // the same added to the residual
  RequantizeUniformInt8Fn requantize_uniform_int8;      // one multiplier for all values → int8
  RequantizeUniformWideFn requantize_uniform_wide;      // → the int16 activation range
  Requantize64UniformInt8Fn requantize64_uniform_int8;  // int64 values → int8
  Requantize64UniformWideFn requantize64_uniform_wide;  // int64 values → the int16 activation range
  // Variants on memories re-laid out at load (null where the instruction set has none); the plan makes the
  // layout only where the table has the kernel.
  AxpyQuadsFn axpy_quads;             // M_v in slot quads (axpy_quads.h)
  MatvecQ16QuadsFn matvec_q16_quads;  // M_k in column quads (matvec_q16_quads.h)
  // `matvec` packs rows of 8 or 16 bytes per vector: for those head widths two passes of it on the query's
  // byte split beat one pass of matvec_q16 (int8_forward.cpp, same bits).
  bool matvec_packs_narrow_rows;
};

const char* isa_name(Isa isa);
// The features the table's files are compiled with (from runtime/ops/CMakeLists.txt); 0 for portable.
CpuFeatures isa_required_features(Isa isa);
// True when this build contains the table of `isa` and `cpu` has every feature its files are compiled with.
bool isa_supported(Isa isa, CpuFeatures cpu);
// What the running CPU has (a Cortex-M build: what it is built for; there is no run-time detection there).
CpuFeatures host_cpu_features();
// The fastest instruction set `cpu` supports in this build (kPortable at worst).
Isa fastest_isa(CpuFeatures cpu);
// The table of `isa`; the portable one for an instruction set this build lacks. The caller checks
// isa_supported(isa, host_cpu_features()) before running it.
const Int8Kernels& int8_kernels_for(Isa isa);

}  // namespace tessera::ops::int8
