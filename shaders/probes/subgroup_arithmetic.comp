#version 450
// target-env: vulkan1.1
// extension: GL_KHR_shader_subgroup_arithmetic
// Subgroup reductions: every Tessera shader needs this one (common.glsl); the probe documents it.
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(local_size_x = 32) in;
layout(std430, binding = 0) buffer B { float x[]; } buf;
void main() { buf.x[gl_LocalInvocationID.x] = subgroupAdd(buf.x[gl_LocalInvocationID.x]); }
