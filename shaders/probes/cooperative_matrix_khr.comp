#version 450
// target-env: vulkan1.3
// extension: GL_KHR_cooperative_matrix
// A 16x16 float16 subgroup matrix multiply-accumulate.
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
layout(local_size_x = 32) in;
layout(std430, binding = 0) buffer B { float16_t x[]; } buf;
layout(std430, binding = 1) buffer C { float y[]; } outb;
void main() {
  coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a;
  coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB> b;
  coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> c = coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>(0.0);
  coopMatLoad(a, buf.x, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
  coopMatLoad(b, buf.x, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
  c = coopMatMulAdd(a, b, c);
  coopMatStore(c, outb.y, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
}
