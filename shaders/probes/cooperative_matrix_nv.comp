#version 450
// target-env: vulkan1.1
// extension: GL_NV_cooperative_matrix
// The NVIDIA predecessor of GL_KHR_cooperative_matrix: a 16x16 float16 multiply-accumulate.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
layout(local_size_x = 32) in;
layout(std430, binding = 0) buffer B { float16_t x[]; } buf;
layout(std430, binding = 1) buffer C { float16_t y[]; } outb;
void main() {
  fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a, b, c;
  coopMatLoadNV(a, buf.x, 0, 16, false);
  coopMatLoadNV(b, buf.x, 0, 16, false);
  c = fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>(0.0);
  c = coopMatMulAddNV(a, b, c);
  coopMatStoreNV(c, outb.y, 0, 16, false);
}
