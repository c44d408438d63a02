// Persistent-memory read of one position (see pmem_read.h).
#include "quant/pmem_read.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/row_common.h"
#include "ops/simd8.h"

namespace tessera::quant {

namespace {

// Eight lanes (ops/simd8.h): two SSE registers in the default build, one AVX register in the x86-64-v3
// clone (TESSERA_MULTIVERSION). The operations per lane are the same, and this file is compiled without
// contracting a·b + c into FMA, so both give the same bits (int8_pmem_read_test and
// int8_pmem_read_portable_test check each against the scalar operations).
#pragma GCC diagnostic ignored "-Wpsabi"
using ops::simd::v8f;
using ops::simd::v8i;

TESSERA_SIMD_INLINE v8f load(const float* p) { return ops::simd::load8(p); }
TESSERA_SIMD_INLINE void store(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }

// ops::exp_nonpositive on eight lanes (the same operations), 0 below -30.
TESSERA_SIMD_INLINE v8f exp_lanes(v8f x) {
  const v8f kRound = v8f{} + 12582912.0f;  // 1.5 * 2^23
  const v8f xc = x < -87.3f ? v8f{} - 87.3f : x;
  const v8f kr = xc * 1.44269504088896341f + kRound;
  const v8f k = kr - kRound;
  v8f f = xc - k * 0.693359375f;
  f = f - k * -2.12194440e-4f;
  v8f poly = v8f{} + 1.0f / 5040.0f;
  poly = poly * f + 1.0f / 720.0f;
  poly = poly * f + 1.0f / 120.0f;
  poly = poly * f + 1.0f / 24.0f;
  poly = poly * f + 1.0f / 6.0f;
  poly = poly * f + 0.5f;
  poly = poly * f + 1.0f;
  poly = poly * f + 1.0f;
  v8i ki;
  std::memcpy(&ki, &kr, sizeof ki);
  v8i kround_bits;
  std::memcpy(&kround_bits, &kRound, sizeof kround_bits);
  const v8i bits = ((ki - kround_bits) + 127) << 23;
  v8f scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const v8f r = poly * scale;
  return x < -30.0f ? v8f{} : r;
}

// Up to kBlock positions at once: each slot key and value is loaded once for all of them (a large memory,
// N·d floats per head, does not stay in cache between positions). Every output's summation order is the
// one-position order, so the result does not depend on how positions are grouped.
template <int NP>
TESSERA_SIMD_INLINE void read_block(const float* q, int64_t q_stride, float query_scale, const float* keys_t,
                                    const float* values, int64_t N, int64_t d, float weight, float* scores, float* acc,
                                    int64_t acc_stride) {
  const int64_t nv = N - N % 8;
  for (int64_t n = 0; n < nv; n += 8) {
    v8f sc[NP] = {};
    for (int64_t i = 0; i < d; ++i) {
      const v8f k = load(keys_t + i * N + n);
      for (int p = 0; p < NP; ++p) sc[p] += (q[p * q_stride + i] * query_scale) * k;
    }
    for (int p = 0; p < NP; ++p) store(scores + p * N + n, sc[p]);
  }
  for (int p = 0; p < NP; ++p)
    for (int64_t n = nv; n < N; ++n) {
      float s = 0;
      for (int64_t i = 0; i < d; ++i) s += (q[p * q_stride + i] * query_scale) * keys_t[i * N + n];
      scores[p * N + n] = s;
    }
  // Softmax per position: the maximum (exact in any order) in eight lanes, exponentials, the scale.
  float inv[NP];
  for (int p = 0; p < NP; ++p) {
    float* S = scores + p * N;
    v8f m8 = v8f{} - INFINITY;
    for (int64_t n = 0; n < nv; n += 8) {
      const v8f x = load(S + n);
      m8 = x > m8 ? x : m8;
    }
    float mx = -INFINITY;
    for (int l = 0; l < 8; ++l) mx = std::max(mx, m8[l]);
    for (int64_t n = nv; n < N; ++n) mx = std::max(mx, S[n]);
    for (int64_t n = 0; n < nv; n += 8) store(S + n, exp_lanes(load(S + n) - mx));
    for (int64_t n = nv; n < N; ++n) {
      const float e = S[n] - mx;
      S[n] = e < -30.0f ? 0.0f : ops::exp_nonpositive(e);
    }
    inv[p] = float(double(weight) / ops::sum_row(S, size_t(N)));
  }
  // Mix: acc[i] += Σ_n p_n v_n[i], n in order, eight dimensions at a time (then one).
  int64_t i0 = 0;
  for (; i0 + 8 <= d; i0 += 8) {
    v8f a[NP];
    for (int p = 0; p < NP; ++p) a[p] = load(acc + p * acc_stride + i0);
    for (int64_t n = 0; n < N; ++n) {
      bool any = false;
      for (int p = 0; p < NP; ++p) any |= scores[p * N + n] != 0.0f;
      if (!any) continue;  // adding 0·v would leave every sum as it is
      const v8f v = load(values + n * d + i0);
      for (int p = 0; p < NP; ++p) a[p] += (scores[p * N + n] * inv[p]) * v;
    }
    for (int p = 0; p < NP; ++p) store(acc + p * acc_stride + i0, a[p]);
  }
  for (; i0 < d; ++i0)
    for (int p = 0; p < NP; ++p)
      for (int64_t n = 0; n < N; ++n)
        if (scores[p * N + n] != 0.0f) acc[p * acc_stride + i0] += (scores[p * N + n] * inv[p]) * values[n * d + i0];
}

}  // namespace

TESSERA_MULTIVERSION
void pmem_read(const float* q, int64_t q_stride, int64_t positions, float query_scale, const float* keys_t,
               const float* values, int64_t N, int64_t d, float weight, float* scores, float* acc, int64_t acc_stride) {
  for (int64_t p0 = 0; p0 < positions; p0 += kPmemReadBlock) {
    const float* qb = q + p0 * q_stride;
    float* ab = acc + p0 * acc_stride;
    switch (std::min<int64_t>(kPmemReadBlock, positions - p0)) {
      case 1: read_block<1>(qb, q_stride, query_scale, keys_t, values, N, d, weight, scores, ab, acc_stride); break;
      case 2: read_block<2>(qb, q_stride, query_scale, keys_t, values, N, d, weight, scores, ab, acc_stride); break;
      case 3: read_block<3>(qb, q_stride, query_scale, keys_t, values, N, d, weight, scores, ab, acc_stride); break;
      default: read_block<4>(qb, q_stride, query_scale, keys_t, values, N, d, weight, scores, ab, acc_stride);
    }
  }
}

}  // namespace tessera::quant
