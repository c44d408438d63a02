// Under QEMU on the Cortex-M boards (firmware built by examples/mcu/CMakeLists.txt, run by run_mcu.sh):
// every int8 kernel variant this build has for its CPU (Cortex-M DSP, Helium) against the portable one
// on random operands at the extremes of their ranges (weights ±127, activations -128..127, int16 queries
// ±32767, int32 values up to INT32_MIN/MAX, every multiplier shift) and at every tail length, bit for bit.
#include "../../examples/mcu/board.h"
#include "ops/int8/int8_kernels.h"

using namespace tessera::ops::int8;

namespace {

uint32_t g_state = 0x12345678u;
uint32_t next() {  // xorshift32: deterministic, integer-only
  g_state ^= g_state << 13;
  g_state ^= g_state >> 17;
  g_state ^= g_state << 5;
  return g_state;
}

constexpr int kMaxRows = 9, kMaxCols = 70;
int8_t g_w[kMaxRows * kMaxCols + 3], g_x[kMaxCols + 3];
int16_t g_q[kMaxCols + 3];
int32_t g_expected[kMaxCols], g_got[kMaxCols], g_a[kMaxRows], g_in[kMaxCols];
QuantizedMultiplier g_m[kMaxCols];

void fill(int8_t* p, int n, int lo) {
  for (int i = 0; i < n; ++i) {
    const uint32_t r = next();
    // A quarter at the extremes, the rest uniform in [lo, 127].
    p[i] = (r & 3) == 0 ? int8_t((r & 4) ? 127 : lo) : int8_t(lo + int((r >> 8) % uint32_t(128 - lo)));
  }
}

int32_t any_int32() {
  const uint32_t r = next();
  switch (r & 7) {
    case 0: return INT32_MIN;
    case 1: return INT32_MAX;
    case 2: return -int32_t((r >> 3) & 0xFFFF);  // small negatives: rounding ties
    default: return int32_t(next());
  }
}

char* put(char* at, const char* s) {
  while (*s) *at++ = *s++;
  return at;
}

char* put_int(char* at, int v) {
  char d[12];
  int n = 0;
  do {
    d[n++] = char('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *at++ = d[--n];
  return at;
}

}  // namespace

extern "C" int run_kernel_check(void) {
  int failures = 0;
  const Isa variants[] = {Isa::kCortexMDsp, Isa::kHelium};
  for (Isa isa : variants) {
    if (!isa_supported(isa, host_cpu_features())) continue;
    const Int8Kernels& k = int8_kernels_for(isa);
    const MatvecFn fn = k.matvec;
    int cases = 0, bad = 0;
    for (int offset = 0; offset < 4; ++offset)  // unaligned rows and activations too
      for (int rows = 1; rows <= kMaxRows; ++rows)
        for (int cols = 1; cols <= kMaxCols; ++cols) {
          fill(g_w + offset, rows * cols, -127);
          fill(g_x + offset, cols, -128);
          matvec_i8_portable(g_w + offset, rows, cols, g_x + offset, g_expected);
          fn(g_w + offset, rows, cols, g_x + offset, g_got);
          for (int r = 0; r < rows; ++r) bad += g_got[r] != g_expected[r];
          ++cases;
        }
    char line[128];
    char* at = put(line, bad ? "FAIL: matvec " : "ok: matvec ");
    at = put(at, k.name);
    at = put(at, ": ");
    at = put_int(at, cases);
    at = put(at, " shapes, ");
    at = put_int(at, bad);
    at = put(at, " rows differ from portable\n");
    *at = 0;
    board_print(line);
    failures += bad;
  }
  // The other Helium kernels, each against its portable function (same shapes, unaligned too).
  auto report = [&](const char* what, int cases, int bad) {
    char line[128];
    char* at = put(line, bad ? "FAIL: " : "ok: ");
    at = put(at, what);
    at = put(at, ": ");
    at = put_int(at, cases);
    at = put(at, " shapes, ");
    at = put_int(at, bad);
    at = put(at, " values differ from portable\n");
    *at = 0;
    board_print(line);
    failures += bad;
  };
  // int16 queries: ±32767 a quarter of the time, else uniform.
  auto fill_query = [](int16_t* p, int n) {
    for (int c = 0; c < n; ++c) {
      const uint32_t r = next();
      p[c] = (r & 3) == 0 ? int16_t((r & 4) ? 32767 : -32767) : int16_t(int32_t(r >> 16) - 32768);
    }
  };
  // int8 × int16 matvec (the persistent memory's q·M_k): every Arm variant has one.
  for (Isa isa : variants) {
    if (!isa_supported(isa, host_cpu_features())) continue;
    const Int8Kernels& k = int8_kernels_for(isa);
    const MatvecQ16Fn q16 = k.matvec_q16;
    int cases = 0, bad = 0;
    for (int offset = 0; offset < 4; ++offset)
      for (int rows = 1; rows <= kMaxRows; ++rows)
        for (int cols = 1; cols <= kMaxCols; ++cols) {
          ++cases;
          fill(g_w + offset, rows * cols, -127);
          fill_query(g_q + offset, cols);
          matvec_q16_portable(g_w + offset, rows, cols, g_q + offset, g_expected);
          q16(g_w + offset, rows, cols, g_q + offset, g_got);
          for (int r = 0; r < rows; ++r) bad += g_got[r] != g_expected[r];
        }
    char what[48];
    *put(put(what, "matvec_q16 "), k.name) = 0;
    report(what, cases, bad);
  }
  if (isa_supported(Isa::kHelium, host_cpu_features())) {
    const AxpyFn axpy = int8_kernels_for(Isa::kHelium).axpy;
    const RequantizeFn requantize = int8_kernels_for(Isa::kHelium).requantize_each;
    int cases = 0, bad_axpy = 0, bad_rq = 0;
    for (int offset = 0; offset < 4; ++offset)
      for (int rows = 1; rows <= kMaxRows; ++rows)
        for (int cols = 1; cols <= kMaxCols; ++cols) {
          ++cases;
          fill(g_w + offset, rows * cols, -127);
          for (int r = 0; r < rows; ++r) g_a[r] = int32_t(next() % (1u << 23));  // Q23 weights
          for (int c = 0; c < cols; ++c) g_expected[c] = g_got[c] = int32_t(next() % (1u << 24)) - (1 << 23);
          axpy_i8_portable(g_a, g_w + offset, rows, cols, g_expected);
          axpy(g_a, g_w + offset, rows, cols, g_got);
          for (int c = 0; c < cols; ++c) bad_axpy += g_got[c] != g_expected[c];
          for (int c = 0; c < cols; ++c) {
            g_in[c] = any_int32();
            const uint32_t r = next();
            g_m[c] = {(r & 15) == 0 ? 0 : int32_t((1u << 30) + (next() >> 2)), int32_t(r % 62) - 31};
          }
          requantize_each_portable(g_in, g_m, cols, g_expected);
          requantize(g_in, g_m, cols, g_got);
          for (int c = 0; c < cols; ++c) bad_rq += g_got[c] != g_expected[c];
        }
    report("axpy helium", cases, bad_axpy);
    report("requantize_each helium", cases, bad_rq);
  }
  return failures ? 1 : 0;
}
