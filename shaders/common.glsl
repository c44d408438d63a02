// Shared prelude of every Tessera compute shader: the workgroup size is specialization
// constant 0, chosen by the host from the device's subgroup size (8 lavapipe, 32 NVIDIA) and its
// (profile's) limits. Each shader is compiled twice (shaders/CMakeLists.txt): TESSERA_SUBGROUPS=1
// uses subgroup operations (Vulkan 1.1), TESSERA_SUBGROUPS=0 the same code on shared memory
// (subgroup_shared.glsl, Vulkan 1.0).
// [[unroll]]: a source-level loop hint (SPIR-V loop control), no device feature.
#extension GL_EXT_control_flow_attributes : require
#if TESSERA_SUBGROUPS
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
#if !TESSERA_SUBGROUPS
#include "subgroup_shared.glsl"
#endif

#define NEG_INF uintBitsToFloat(0xff800000u)

// The per-forward step record (host-visible, written before each replay): the position of the
// first fed token. Shapes live in push constants; positions here, so a recorded command buffer
// replays for every decode step.
#define TESSERA_STEP_BUFFER(b) \
  layout(std430, binding = b) readonly buffer StepBuf { uint pos0; uint step_rows; } step;

// Keys a causal query row sees: j <= t - mask_offset; mask_offset 0 means "not causal: nkeys_fixed".
int visible_keys(uint t, uint mask_offset, uint nkeys_fixed) {
  if (mask_offset == 0u) return int(nkeys_fixed);
  return max(int(t) - int(mask_offset) + 1, 0);
}
