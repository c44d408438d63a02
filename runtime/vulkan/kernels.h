// The compute kernels: KernelId and each kernel's contract (bindings, push constants, specialisation
// constants) come from vulkan/kernel_contracts.h, generated at build time from the kernels' SPIR-V
// (shaders/reflect/reflect_kernels.cpp); the SPIR-V itself is embedded (shaders/CMakeLists.txt).
#pragma once

#include <cstdint>
#include <span>

#include "vulkan/kernel_contracts.h"

namespace tessera::vk {

// The most storage buffers one kernel may bind (Recording sizes its descriptor writes for it).
constexpr uint32_t kMaxKernelBindings = 16;
// The most a kernel that runs everywhere (not gated on a vendor feature) binds: Mesa V3DV (Raspberry
// Pi) allows 8 storage buffers per shader stage. A device with fewer is unusable; the gated kernels
// (cooperative matrices) are checked per kernel against the device's count.
constexpr uint32_t kPortableKernelBindings = 8;
// Every kernel's push constants fit the guaranteed minimum maxPushConstantsSize (one pipeline layout
// range of this size per binding count).
constexpr uint32_t kPushConstantBytes = 128;
static_assert(kReflectedMaxBindings <= kMaxKernelBindings, "a kernel binds more storage buffers than allowed");
static_assert(kReflectedMaxPushBytes <= kPushConstantBytes, "a kernel's push constants exceed 128 bytes");

// The embedded SPIR-V of a kernel: the subgroup flavour (Vulkan 1.1) or the shared-memory flavour
// (Vulkan 1.0); empty when this build has no such flavour (a gated kernel, or `// requires-subgroups`).
std::span<const uint32_t> kernel_spirv(KernelId id, bool subgroups);

}  // namespace tessera::vk
