// The portable int8 matvec (see matvec_int8.h).
#include "ops/int8/matvec_int8.h"

namespace tessera::ops::int8 {

void matvec_i8_portable(const int8_t* w, int64_t rows, int64_t cols, const int8_t* x, int32_t* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    int32_t acc = 0;
    for (int64_t c = 0; c < cols; ++c) acc += int32_t(wr[c]) * int32_t(x[c]);
    y[r] = acc;
  }
}

}  // namespace tessera::ops::int8
