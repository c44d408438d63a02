// The storage-buffer binding count of each shaders/<name>.comp (must match the shader).
#pragma once

#include <string_view>
#include <span>
#include <cstdint>

namespace tessera::vk {

// The most storage buffers one kernel binds (recording.cpp sizes its descriptor writes for it);
// a device with fewer per shader stage is unusable.
constexpr uint32_t kMaxKernelBindings = 16;
// Number of bindings of `name`, or 0 for an unknown kernel.
uint32_t kernel_binding_count(std::string_view name);
// SPIR-V words embedded at build time (shaders/CMakeLists.txt generates the definition).
std::span<const uint32_t> find_spirv(std::string_view name);

}  // namespace tessera::vk
