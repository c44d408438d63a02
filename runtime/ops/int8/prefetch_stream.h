// Spreads software prefetches of one byte range evenly over a kernel's loop steps (x86-64 SIMD kernels only).
// The persistent memory's kernels run one after another on one thread: the slot weights (pmem_weights.h,
// compute only) stream the value sum's operand into L2 meanwhile, so memory stays busy while the thread
// computes. A hint only: results do not depend on it.
#pragma once

#include <xmmintrin.h>

#include <cstddef>
#include <cstdint>

namespace tessera::ops::int8 {

class PrefetchStream {
 public:
  // data may be null (no prefetching); steps: how often step() will be called.
  PrefetchStream(const void* data, size_t bytes, int64_t steps) {
    if (!data || bytes == 0 || steps <= 0) return;
    next_ = static_cast<const char*>(data);
    end_ = next_ + bytes;
    const int64_t lines = int64_t((bytes + 63) / 64);
    lines_per_step_ = (lines + steps - 1) / steps;
  }
  void step() {
    for (int64_t i = 0; i < lines_per_step_ && next_ < end_; ++i, next_ += 64) _mm_prefetch(next_, _MM_HINT_T1);
  }

 private:
  const char* next_ = nullptr;
  const char* end_ = nullptr;
  int64_t lines_per_step_ = 0;
};

}  // namespace tessera::ops::int8
