#version 450
// Attention pass 2, ReLUmax: e = relu(A (c - max c) + B), norm = 1/Z (A = relu_scale·beta^2, B = relu_bias).
#define TRANSFORM_NORM_RELU 0
#define TRANSFORM_WEIGHT(c, m) max(ab.x * ((c) - (m)) + ab.y, 0.0)
#include "attn_dense_transform.glsl"
