// Leaky average of the keys in fixed point: s_t = a_h s_{t-1} + (1 - a_h) u_t per head h, with
// a_h and 1 - a_h as Q31 numbers (a_q31 = round(a·2^31)). State and input share one int32 scale.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::ops::int8 {

// state, u: n_head × head_dim. decay_q31[h] = a_h, keep_q31[h] = 1 - a_h (both Q31, ≤ 2^31 - 1).
void leaky_average_fixed(int32_t* state, const int32_t* u, const int32_t* decay_q31, const int32_t* keep_q31,
                         int64_t n_head, int64_t head_dim);

}  // namespace tessera::ops::int8
