#include "vulkan/shader_variants.h"

#include "shader_features.h"

namespace tessera::vk {

std::vector<GlslFeatureStatus> glsl_feature_status(const DeviceShaderFeatures& device) {
  std::vector<GlslFeatureStatus> out;
  for (const auto& p : kGlslFeatureProbes) out.push_back({p.name, p.extension, p.glslc_accepts, device.has(p.name)});
  return out;
}

bool variant_selectable(bool built, bool glslc_accepts, bool device_has) {
  return built && glslc_accepts && device_has;
}

KernelId pick_kernel_variant(KernelId portable, KernelId variant, const DeviceShaderFeatures& device) {
  const KernelContract& v = kernel_contract(variant);
  if (v.feature.empty()) return portable;
  bool accepted = false;
  for (const auto& p : kGlslFeatureProbes)
    if (p.name == v.feature) accepted = p.glslc_accepts;
  return variant_selectable(v.built, accepted, device.has(v.feature)) ? variant : portable;
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
