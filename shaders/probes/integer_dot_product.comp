#version 450
// target-env: vulkan1.3
// extension: GL_EXT_integer_dot_product
// Packed 4x8-bit signed dot product with accumulation (int8 weight matvec).
#extension GL_EXT_integer_dot_product : require
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer B { uint a; uint b; int r; } buf;
void main() { buf.r = dotPacked4x8AccSatEXT(buf.a, buf.b, buf.r); }
