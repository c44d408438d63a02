#version 450
// target-env: vulkan1.1
// extension: GL_EXT_shader_explicit_arithmetic_types_int8
// int8 arithmetic types (I8 weights unpacked without bit tricks).
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer B { i8vec4 a; int r; } buf;
void main() { i8vec4 v = buf.a * int8_t(2); buf.r = int(v.x) + int(v.y) + int(v.z) + int(v.w); }
