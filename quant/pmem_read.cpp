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

}  // namespace

void pmem_read(const float* q, float query_scale, const float* keys_t, const float* values, int64_t N, int64_t d,
               float weight, float* scores, float* acc) {
  const int64_t nv = N - N % 8;
  // Scores: S[n] = Σ_i (s·q_i) k_i[n], i in order, eight slots at a time.
  for (int64_t n = 0; n < nv; n += 8) {
    v4f s0 = {}, s1 = {};
    for (int64_t i = 0; i < d; ++i) {
      const float qi = q[i] * query_scale;
      s0 += qi * load(keys_t + i * N + n);
      s1 += qi * load(keys_t + i * N + n + 4);
    }
    store(scores + n, s0);
    store(scores + n + 4, s1);
  }
  for (int64_t n = nv; n < N; ++n) {
    float s = 0;
    for (int64_t i = 0; i < d; ++i) s += (q[i] * query_scale) * keys_t[i * N + n];
    scores[n] = s;
  }
  // The maximum (exact in any order), four lanes.
  const int64_t n4 = N - N % 4;
  v4f m4 = v4f{} - INFINITY;
  for (int64_t n = 0; n < n4; n += 4) {
    const v4f x = load(scores + n);
    m4 = x > m4 ? x : m4;
  }
  float mx = std::max(std::max(m4[0], m4[1]), std::max(m4[2], m4[3]));
  for (int64_t n = n4; n < N; ++n) mx = std::max(mx, scores[n]);
  for (int64_t n = 0; n < n4; n += 4) store(scores + n, exp_lanes(load(scores + n) - mx));
  for (int64_t n = n4; n < N; ++n) {
    const float e = scores[n] - mx;
    scores[n] = e < -30.0f ? 0.0f : ops::exp_nonpositive(e);
  }
  const float inv = float(double(weight) / ops::sum_row(scores, size_t(N)));
  // Mix: acc[i] += Σ_n p_n v_n[i], n in order, sixteen (then four, then one) dimensions at a time.
  int64_t i0 = 0;
  for (; i0 + 16 <= d; i0 += 16) {
    v4f a0 = load(acc + i0), a1 = load(acc + i0 + 4), a2 = load(acc + i0 + 8), a3 = load(acc + i0 + 12);
    for (int64_t n = 0; n < N; ++n) {
      if (scores[n] == 0.0f) continue;
      const float p = scores[n] * inv;
      const float* v = values + n * d + i0;
      a0 += p * load(v);
      a1 += p * load(v + 4);
      a2 += p * load(v + 8);
      a3 += p * load(v + 12);
    }
    store(acc + i0, a0), store(acc + i0 + 4, a1), store(acc + i0 + 8, a2), store(acc + i0 + 12, a3);
  }
  for (; i0 < d; ++i0)
    for (int64_t n = 0; n < N; ++n)
      if (scores[n] != 0.0f) acc[i0] += (scores[n] * inv) * values[n * d + i0];
}

}  // namespace tessera::quant
