#pragma once

#include "cpu/thread_pool.h"
#include "ops/linear.h"

namespace tessera::cpu {

// y = W x (+ b) with the rows split across the pool. Each row's dot is computed exactly as on
// one thread, so results do not depend on the thread count.
inline void parallel_linear(ThreadPool& pool, const float* W, const float* bias, const float* x, float* y, int64_t rows,
                            int64_t cols) {
  pool.run(rows, [&](int, int64_t b, int64_t e) {
    ops::linear_f32(W + b * cols, bias ? bias + b : nullptr, x, y + b, e - b, cols);
  });
}

}  // namespace tessera::cpu
