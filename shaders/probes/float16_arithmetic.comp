#version 450
// target-env: vulkan1.1
// extension: GL_EXT_shader_explicit_arithmetic_types_float16
// float16 arithmetic (not only storage): F16 key/value caches computed in half precision.
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer B { f16vec2 a; f16vec2 b; float r; } buf;
void main() { buf.r = float(dot(buf.a, buf.b) * float16_t(0.5)); }
