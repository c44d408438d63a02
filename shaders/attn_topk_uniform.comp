#version 450
// Attention pass 2, top-K uniform: weight 1 on the K largest cosines, 0 elsewhere.
#define TOPK_WEIGHT(c, m) 1.0
#include "attn_topk.glsl"
