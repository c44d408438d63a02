#include "vulkan/shader_variants.h"

#include "shader_features.h"

namespace tessera::vk {

std::vector<GlslFeatureStatus> glsl_feature_status(const DeviceShaderFeatures& device) {
  std::vector<GlslFeatureStatus> out;
  for (const auto& p : kGlslFeatureProbes) out.push_back({p.name, p.extension, p.glslc_accepts, device.has(p.name)});
  return out;
}

bool variant_selectable(bool built, bool glslc_accepts, bool device_has) { return built && glslc_accepts && device_has; }

std::string_view pick_kernel_variant(std::string_view portable, std::string_view variant,
                                     const DeviceShaderFeatures& device) {
  for (const auto& g : kGatedKernels) {
    if (g.kernel != variant) continue;
    bool accepted = false;
    for (const auto& p : kGlslFeatureProbes)
      if (p.name == g.feature) accepted = p.glslc_accepts;
    return variant_selectable(g.built, accepted, device.has(g.feature)) ? variant : portable;
  }
  return portable;
}

std::string describe_glsl_features(const DeviceShaderFeatures& device) {
  std::string s;
  for (const auto& f : glsl_feature_status(device)) {
    if (!s.empty()) s += "; ";
    s += std::string(f.name) + ": glslc " + (f.glslc ? "yes" : "no") + ", device " + (f.device ? "yes" : "no");
  }
  return s;
}

}  // namespace tessera::vk
