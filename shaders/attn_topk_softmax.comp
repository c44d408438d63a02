#version 450
// Attention pass 2, top-K softmax: exp(beta^2 (c - max c)) on the K largest cosines, 0 elsewhere.
#define TOPK_WEIGHT(c, m) exp(beta2 * ((c) - (m)))
#include "attn_topk.glsl"
