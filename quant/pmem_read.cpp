// Persistent-memory read of one position (see pmem_read.h).
#include "quant/pmem_read.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/row_common.h"

namespace tessera::quant {

namespace {

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

inline v4f load(const float* p) {
  v4f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, v4f v) { std::memcpy(p, &v, sizeof v); }

// ops::exp_nonpositive on four lanes (the same operations, so the same values), 0 below -30.
inline v4f exp_lanes(v4f x) {
  const v4f kRound = v4f{} + 12582912.0f;  // 1.5 * 2^23
  const v4f xc = x < -87.3f ? v4f{} - 87.3f : x;
  const v4f kr = xc * 1.44269504088896341f + kRound;
  const v4f k = kr - kRound;
  v4f f = xc - k * 0.693359375f;
  f = f - k * -2.12194440e-4f;
  v4f poly = v4f{} + 1.0f / 5040.0f;
  poly = poly * f + 1.0f / 720.0f;
  poly = poly * f + 1.0f / 120.0f;
  poly = poly * f + 1.0f / 24.0f;
  poly = poly * f + 1.0f / 6.0f;
  poly = poly * f + 0.5f;
  poly = poly * f + 1.0f;
  poly = poly * f + 1.0f;
  v4i ki;
  std::memcpy(&ki, &kr, sizeof ki);
  v4i kround_bits;
  std::memcpy(&kround_bits, &kRound, sizeof kround_bits);
  const v4i bits = ((ki - kround_bits) + 127) << 23;
  v4f scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const v4f r = poly * scale;
  return x < -30.0f ? v4f{} : r;
}

// Up to kBlock positions at once: each slot key and value is loaded once for all of them (a large memory,
// N·d floats per head, does not stay in cache between positions). Every output's summation order is the
// one-position order, so the result does not depend on how positions are grouped.
template <int NP>
void read_block(const float* q, int64_t q_stride, float query_scale, const float* keys_t, const float* values,
                int64_t N, int64_t d, float weight, float* scores, float* acc, int64_t acc_stride) {
  const int64_t nv = N - N % 8;
  for (int64_t n = 0; n < nv; n += 8) {
    v4f s0[NP] = {}, s1[NP] = {};
    for (int64_t i = 0; i < d; ++i) {
      const v4f k0 = load(keys_t + i * N + n), k1 = load(keys_t + i * N + n + 4);
      for (int p = 0; p < NP; ++p) {
        const float qi = q[p * q_stride + i] * query_scale;
        s0[p] += qi * k0;
        s1[p] += qi * k1;
      }
    }
    for (int p = 0; p < NP; ++p) {
      store(scores + p * N + n, s0[p]);
      store(scores + p * N + n + 4, s1[p]);
    }
  }
  for (int p = 0; p < NP; ++p)
    for (int64_t n = nv; n < N; ++n) {
      float s = 0;
      for (int64_t i = 0; i < d; ++i) s += (q[p * q_stride + i] * query_scale) * keys_t[i * N + n];
      scores[p * N + n] = s;
    }
  // Softmax per position: the maximum (exact in any order) in four lanes, exponentials, the scale.
  float inv[NP];
  const int64_t n4 = N - N % 4;
  for (int p = 0; p < NP; ++p) {
    float* S = scores + p * N;
    v4f m4 = v4f{} - INFINITY;
    for (int64_t n = 0; n < n4; n += 4) {
      const v4f x = load(S + n);
      m4 = x > m4 ? x : m4;
    }
    float mx = std::max(std::max(m4[0], m4[1]), std::max(m4[2], m4[3]));
    for (int64_t n = n4; n < N; ++n) mx = std::max(mx, S[n]);
    for (int64_t n = 0; n < n4; n += 4) store(S + n, exp_lanes(load(S + n) - mx));
    for (int64_t n = n4; n < N; ++n) {
      const float e = S[n] - mx;
      S[n] = e < -30.0f ? 0.0f : ops::exp_nonpositive(e);
    }
    inv[p] = float(double(weight) / ops::sum_row(S, size_t(N)));
  }
  // Mix: acc[i] += Σ_n p_n v_n[i], n in order, eight dimensions at a time (then one).
  int64_t i0 = 0;
  for (; i0 + 8 <= d; i0 += 8) {
    v4f a0[NP], a1[NP];
    for (int p = 0; p < NP; ++p) a0[p] = load(acc + p * acc_stride + i0), a1[p] = load(acc + p * acc_stride + i0 + 4);
    for (int64_t n = 0; n < N; ++n) {
      bool any = false;
      for (int p = 0; p < NP; ++p) any |= scores[p * N + n] != 0.0f;
      if (!any) continue;  // adding 0·v would leave every sum as it is
      const v4f v0 = load(values + n * d + i0), v1 = load(values + n * d + i0 + 4);
      for (int p = 0; p < NP; ++p) {
        const float w = scores[p * N + n] * inv[p];
        a0[p] += w * v0;
        a1[p] += w * v1;
      }
    }
    for (int p = 0; p < NP; ++p) store(acc + p * acc_stride + i0, a0[p]), store(acc + p * acc_stride + i0 + 4, a1[p]);
  }
  for (; i0 < d; ++i0)
    for (int p = 0; p < NP; ++p)
      for (int64_t n = 0; n < N; ++n)
        if (scores[p * N + n] != 0.0f) acc[p * acc_stride + i0] += (scores[p * N + n] * inv[p]) * values[n * d + i0];
}

}  // namespace

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
