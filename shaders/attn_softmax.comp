#version 450
// Attention pass 2, softmax: e = exp(beta^2 (c - max c)), norm = 1/Z.
#define TRANSFORM_RELU_PARAMS 0
#define TRANSFORM_NORM_RELU 0
#define TRANSFORM_WEIGHT(c, m) exp(beta2 * ((c) - (m)))
#include "attn_dense_transform.glsl"
