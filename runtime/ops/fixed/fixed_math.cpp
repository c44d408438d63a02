#include "ops/fixed/fixed_math.h"

#include "ops/int8/fixed_point.h"  // isqrt64 (freestanding, integer only)

namespace tessera::ops::fixed {

bool usable_max(const int32_t* q, size_t n, const uint8_t* mask, int32_t* out_max) {
  if (mask == nullptr) {  // every key usable (the runtimes' rows): a plain max the compiler vectorises
    int32_t m = INT32_MIN;
    for (size_t i = 0; i < n; ++i) m = q[i] > m ? q[i] : m;
    *out_max = m;
    return n > 0;
  }
  bool any = false;
  int32_t m = INT32_MIN;
  for (size_t i = 0; i < n; ++i) {
    if (!usable_key(mask, i)) continue;
    any = true;
    m = q[i] > m ? q[i] : m;
  }
  *out_max = m;
  return any;
}

// ops/int8's exact floor square root (two Newton steps from a table, then an r² > x correction) rather
// than a digit loop of 32 data-dependent branches: the same value.
uint64_t isqrt_u64(uint64_t x) { return ops::int8::isqrt64(x); }

uint64_t icbrt_u64(uint64_t x) {
  // Newton's integer step r ← (2r + x/r²)/3 never goes below floor(cbrt x) from any r ≥ 1 (AM–GM, floors
  // included) and decreases while r is above it, so the first step that does not decrease ends at the
  // exact floor. Start: 2^ceil(bits/3) ≥ cbrt(x) (≤ 2^22: r² stays far inside 64 bits).
  if (x == 0) return 0;
  int bits = 64;
  while (!(x >> (bits - 1))) --bits;
  uint64_t r = uint64_t{1} << ((bits + 2) / 3);
  for (;;) {
    const uint64_t y = (2 * r + x / (r * r)) / 3;
    if (y >= r) return r;
    r = y;
  }
}

namespace {
void sift_down(uint32_t* a, size_t root, size_t m) {
  while (true) {
    size_t child = 2 * root + 1;
    if (child >= m) return;
    if (child + 1 < m && a[child + 1] > a[child]) ++child;
    if (a[root] >= a[child]) return;
    uint32_t t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}
}  // namespace

void heapsort_u32(uint32_t* a, size_t m) {
  if (m < 2) return;
  for (size_t i = m / 2; i-- > 0;) sift_down(a, i, m);
  for (size_t end = m - 1; end > 0; --end) {
    uint32_t t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}

}  // namespace tessera::ops::fixed
