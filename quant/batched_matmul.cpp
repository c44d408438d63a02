// Batched matrix product (see batched_matmul.h).
#include "quant/batched_matmul.h"

#include <cstring>

namespace tessera::quant {

namespace {

typedef float v4f __attribute__((vector_size(16)));

template <class V, class S>
inline V load(const S* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Σ over the lanes in a fixed order, then the tail columns k ≥ kv one by one.
template <class V, class S>
inline S finish(V acc, const S* x, const S* w, int64_t kv, int64_t cols) {
  constexpr int lanes = int(sizeof(V) / sizeof(S));
  S s = 0;
  static_assert(lanes == 4);
  s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  for (int64_t k = kv; k < cols; ++k) s += x[k] * w[k];
  return s;
}

// Up to 4 rows × up to 2 positions; absent rows/positions repeat the last one (computed, not stored),
// so every output follows the same lane-wise order whatever the tile shape.
template <class V, class S>
void tile(const S* X, const S* W, const S* bias, S* Y, int64_t rows, int64_t t0, int nt, int64_t r0, int nr,
          int64_t cols) {
  constexpr int64_t lanes = int64_t(sizeof(V) / sizeof(S));
  const int64_t kv = cols - cols % lanes;
  const S* w[4];
  const S* x[2];
  for (int i = 0; i < 4; ++i) w[i] = W + (r0 + (i < nr ? i : nr - 1)) * cols;
  for (int j = 0; j < 2; ++j) x[j] = X + (t0 + (j < nt ? j : nt - 1)) * cols;
  V a00 = {}, a01 = {}, a10 = {}, a11 = {}, a20 = {}, a21 = {}, a30 = {}, a31 = {};
  for (int64_t k = 0; k < kv; k += lanes) {
    const V x0 = load<V>(x[0] + k), x1 = load<V>(x[1] + k);
    V wv = load<V>(w[0] + k);
    a00 += wv * x0;
    a01 += wv * x1;
    wv = load<V>(w[1] + k);
    a10 += wv * x0;
    a11 += wv * x1;
    wv = load<V>(w[2] + k);
    a20 += wv * x0;
    a21 += wv * x1;
    wv = load<V>(w[3] + k);
    a30 += wv * x0;
    a31 += wv * x1;
  }
  const V acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
  for (int i = 0; i < nr; ++i)
    for (int j = 0; j < nt; ++j) {
      const S s = finish<V, S>(acc[i][j], x[j], w[i], kv, cols);
      Y[(t0 + j) * rows + r0 + i] = bias ? s + bias[r0 + i] : s;
    }
}

template <class V, class S>
void matmul(const S* X, const S* W, const S* bias, S* Y, int64_t T, int64_t rows, int64_t r0, int64_t r1,
            int64_t cols) {
  for (int64_t r = r0; r < r1; r += 4)
    for (int64_t t = 0; t < T; t += 2)
      tile<V, S>(X, W, bias, Y, rows, t, int(T - t < 2 ? T - t : 2), r, int(r1 - r < 4 ? r1 - r : 4), cols);
}

}  // namespace

void matmul_rows(const float* X, const float* W, const float* bias, float* Y, int64_t T, int64_t rows, int64_t r0,
                 int64_t r1, int64_t cols) {
  matmul<v4f>(X, W, bias, Y, T, rows, r0, r1, cols);
}

}  // namespace tessera::quant
