#version 450
// Attention pass 2, norm_relu: e = relu(A (c - 1) + B), norm = 1/max(Z, 1e-6); uniform when Z = 0
// (A = relu_scale·beta^2, B = relu_scale·beta^2 + relu_bias, formed in double on the host so the large
// terms cancel exactly: relu(2β²(c - 1) + 1) stays exact).
#define TRANSFORM_NORM_RELU 1
#define TRANSFORM_WEIGHT(c, m) max(ab.x * ((c) - 1.0) + ab.y, 0.0)
#include "attn_dense_transform.glsl"
