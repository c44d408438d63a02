// Per-head fixed-point mixes of two int32 vectors, out = a_h·x + b_h·y rounded once: the leaky average of the
// keys (s_t = a_h s_{t-1} + (1 - a_h) u_t, Q31 coefficients) and the value mix (ṽ = c w_{t-1} + (1 - c) w_t,
// Q24 coefficients) are both this. State and inputs share one int32 scale.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

// out[h·d + i] = sat32(round_half_away((a[h]·x[h·d + i] + b[h]·y[h·d + i]) / 2^frac_bits)) for h < n_head,
// i < head_dim; frac_bits ∈ [1, 62]; |a[h]·x| + |b[h]·y| < 2^63 (the caller's coefficients guarantee it: Q31
// with a + b ≤ 2^31, or Q24 with |c| ≤ 100). out may be x or y.
using MixHeadsFn = void (*)(const int32_t* x, const int32_t* y, const int32_t* a, const int32_t* b, int frac_bits,
                            int64_t n_head, int64_t head_dim, int32_t* out);
void mix_heads_fixed(const int32_t* x, const int32_t* y, const int32_t* a, const int32_t* b, int frac_bits,
                     int64_t n_head, int64_t head_dim, int32_t* out);
// x86-64 only; in the AVX-512 VNNI kernel table (int8_kernels.h).
void mix_heads_fixed_avx512(const int32_t* x, const int32_t* y, const int32_t* a, const int32_t* b, int frac_bits,
                            int64_t n_head, int64_t head_dim, int32_t* out);

// The leaky average in place: state, u: n_head × head_dim; decay_q31[h] = a_h, keep_q31[h] = 1 - a_h (Q31).
inline void leaky_average_fixed(int32_t* state, const int32_t* u, const int32_t* decay_q31, const int32_t* keep_q31,
                                int64_t n_head, int64_t head_dim) {
  mix_heads_fixed(state, u, decay_q31, keep_q31, 31, n_head, head_dim, state);
}

}  // namespace tessera::ops::int8
