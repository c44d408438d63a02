// The workgroup (shared) memory a compute shader declares, read from its SPIR-V for given
// specialization constants: Context::kernel refuses a pipeline whose arrays exceed the effective
// maxComputeSharedMemorySize (the device's, or a profile's smaller one, which no driver would check).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/status.h"

namespace tessera::vk {

// Sum of the sizes of every Workgroup-storage variable (arrays sized by constants, specialization
// constants and the specialization-constant operations glslc emits for them). spec[i] is
// specialization constant id i; missing ids keep their defaults. A construct it cannot size is an
// internal error (never an under-estimate). Booleans count 4 bytes; structs are packed.
Result<uint64_t> workgroup_memory_bytes(std::span<const uint32_t> spirv, std::span<const uint32_t> spec);
// The same per variable, in declaration order.
Result<std::vector<uint64_t>> workgroup_variable_bytes(std::span<const uint32_t> spirv, std::span<const uint32_t> spec);

}  // namespace tessera::vk
