// AVX-512 LayerNorm (in the AVX-512 VNNI kernel table): layernorm_fixed.cpp on 8
// int64 lanes per step. The scalar kernel's passes (sum; max |x - mean|; Σ(x - mean)²; outputs) stay, with
// max and Σ fused into one pass: when max |x - mean| < 2^24 its shift is 0 and Σ d² (each < 2^48) is what it
// sums; otherwise (or for an output exponent ≤ 0 or ≥ 63) the row runs the portable kernel. Outputs are
// rounding_shift_right_64(d·mm, right) (ties away from zero on |d·mm| < 2^55, sign restored) clamped to
// ±kMax, which equals saturate_to_int32 followed by the clamp. Same bits.
#include <immintrin.h>

#include "ops/int8/layernorm_fixed.h"

namespace tessera::ops::int8 {

namespace {

inline __mmask8 tail_mask(int64_t left) { return left >= 8 ? __mmask8(0xFF) : __mmask8((1u << left) - 1); }

inline __m512i load8(const int32_t* x, int64_t i, int64_t n) {
  return _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(tail_mask(n - i), x + i));
}

// Returns false when the row needs the portable kernel; else writes round(d·mm / 2^right) clamped to ±k_max
// for each lane through store(i, lanes).
template <class Store>
bool layernorm_lanes(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale, int64_t k_max,
                     Store store) {
  __m512i vsum = _mm512_setzero_si512();
  for (int64_t i = 0; i < n; i += 8) vsum = _mm512_add_epi64(vsum, load8(x, i, n));  // masked lanes load 0
  alignas(64) int64_t lanes[8];
  _mm512_store_si512(lanes, vsum);
  int64_t sum = 0;
  for (int l = 0; l < 8; ++l) sum += lanes[l];
  const int64_t mean = sum >= 0 ? (sum + n / 2) / n : -((-sum + n / 2) / n);
  const __m512i vmean = _mm512_set1_epi64(mean);
  __m512i vmax = _mm512_setzero_si512(), sq = _mm512_setzero_si512();
  for (int64_t i = 0; i < n; i += 8) {
    const __mmask8 k = tail_mask(n - i);
    const __m512i d = _mm512_maskz_sub_epi64(k, load8(x, i, n), vmean);
    vmax = _mm512_max_epu64(vmax, _mm512_abs_epi64(d));
    sq = _mm512_add_epi64(sq, _mm512_mul_epi32(d, d));  // exact only while |d| < 2^31: checked next
  }
  _mm512_store_si512(lanes, vmax);
  uint64_t max_abs = 0;
  for (int l = 0; l < 8; ++l) max_abs = uint64_t(lanes[l]) > max_abs ? uint64_t(lanes[l]) : max_abs;
  if (max_abs >= (uint64_t(1) << 24)) return false;  // the portable kernel's shift would be > 0
  _mm512_store_si512(lanes, sq);
  uint64_t sumsq = 0;
  for (int l = 0; l < 8; ++l) sumsq += uint64_t(lanes[l]);
  const uint64_t var = sumsq / uint64_t(n) + eps_int;
  const ReciprocalSqrt inv = reciprocal_sqrt(var == 0 ? 1 : var);
  const int32_t mm = saturating_rounding_doubling_high_mul(inv.mantissa, inv_out_scale.multiplier);
  const int right = inv.exponent - inv_out_scale.shift;
  if (right <= 0 || right >= 63) return false;
  const __m512i vmm = _mm512_set1_epi64(mm), half = _mm512_set1_epi64(int64_t(1) << (right - 1));
  const __m512i bound = _mm512_set1_epi64(k_max);
  const __m128i r = _mm_cvtsi32_si128(right);
  for (int64_t i = 0; i < n; i += 8) {
    const __m512i d = _mm512_sub_epi64(load8(x, i, n), vmean);
    const __m512i p = _mm512_mul_epi32(d, vmm);  // |d| < 2^24, |mm| < 2^31: exact
    const __mmask8 negative = _mm512_cmplt_epi64_mask(p, _mm512_setzero_si512());
    __m512i q = _mm512_min_epi64(_mm512_srl_epi64(_mm512_add_epi64(_mm512_abs_epi64(p), half), r), bound);
    q = _mm512_mask_sub_epi64(q, negative, _mm512_setzero_si512(), q);
    store(i, tail_mask(n - i), q);
  }
  return true;
}

}  // namespace

void layernorm_fixed_avx512(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale,
                            int8_t* out) {
  const bool done = n > 0 && layernorm_lanes(x, n, eps_int, inv_out_scale, 127, [&](int64_t i, __mmask8 k, __m512i q) {
                      _mm_mask_storeu_epi8(out + i, __mmask16(k), _mm512_cvtepi64_epi8(q));
                    });
  if (!done) layernorm_fixed(x, n, eps_int, inv_out_scale, out);
}

void layernorm_fixed_wide_avx512(const int32_t* x, int64_t n, uint64_t eps_int, QuantizedMultiplier inv_out_scale,
                                 int16_t* out) {
  const bool done = n > 0 &&
                    layernorm_lanes(x, n, eps_int, inv_out_scale, kWideMax, [&](int64_t i, __mmask8 k, __m512i q) {
                      _mm_mask_storeu_epi16(out + i, k, _mm512_cvtepi64_epi16(q));
                    });
  if (!done) layernorm_fixed_wide(x, n, eps_int, inv_out_scale, out);
}

}  // namespace tessera::ops::int8
