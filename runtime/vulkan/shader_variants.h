// Optional-feature shader variants: a variant that needs a GLSL extension is compiled only
// when this build's glslc accepted the extension's probe (shaders/probes/, shader_features.h), and is
// dispatched only when the device also reports the feature; otherwise the portable shader runs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vulkan/device.h"
#include "vulkan/kernels.h"

namespace tessera::vk {

struct GlslFeatureStatus {
  std::string_view name, extension;
  bool glslc = false;   // this build's glslc compiled the probe
  bool device = false;  // the device reports the feature
  bool usable() const { return glslc && device; }
};

// Every probed feature, for `tessera devices` and for picking variants.
std::vector<GlslFeatureStatus> glsl_feature_status(const DeviceShaderFeatures& device);

// `variant` when it was built (its contract: vulkan/kernel_contracts.h) and the device has the feature it
// needs, else `portable`. A variant that needs no optional feature is no variant: never picked.
KernelId pick_kernel_variant(KernelId portable, KernelId variant, const DeviceShaderFeatures& device);

// The same decision from explicit inputs (unit-tested): built && feature probe passed && device has it.
bool variant_selectable(bool built, bool glslc_accepts, bool device_has);

// "integer_dot_product: glslc no, device yes; ..." (one line).
std::string describe_glsl_features(const DeviceShaderFeatures& device);

}  // namespace tessera::vk
