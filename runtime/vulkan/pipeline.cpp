#include "vulkan/pipeline.h"

#include <filesystem>

#include "core/file_io.h"
#include "vulkan/vk_check.h"

namespace tessera::vk {

Result<std::unique_ptr<DescriptorSetLayout>> DescriptorSetLayout::create(const Device& device, uint32_t bindings) {
  std::unique_ptr<DescriptorSetLayout> l(new DescriptorSetLayout());
  l->device_ = device.handle();
  l->bindings_ = bindings;
  std::vector<VkDescriptorSetLayoutBinding> b(bindings);
  for (uint32_t i = 0; i < bindings; ++i)
    b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  VkDescriptorSetLayoutCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  ci.bindingCount = bindings;
  ci.pBindings = b.data();
  TESSERA_VK(vkCreateDescriptorSetLayout(l->device_, &ci, nullptr, &l->layout_), "vkCreateDescriptorSetLayout");
  return l;
}
DescriptorSetLayout::~DescriptorSetLayout() {
  if (layout_ != VK_NULL_HANDLE) vkDestroyDescriptorSetLayout(device_, layout_, nullptr);
}

Result<std::unique_ptr<PipelineLayout>> PipelineLayout::create(const Device& device, const DescriptorSetLayout& set) {
  std::unique_ptr<PipelineLayout> l(new PipelineLayout());
  l->device_ = device.handle();
  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes};
  VkDescriptorSetLayout s = set.handle();
  VkPipelineLayoutCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  ci.setLayoutCount = 1;
  ci.pSetLayouts = &s;
  ci.pushConstantRangeCount = 1;
  ci.pPushConstantRanges = &range;
  TESSERA_VK(vkCreatePipelineLayout(l->device_, &ci, nullptr, &l->layout_), "vkCreatePipelineLayout");
  return l;
}
PipelineLayout::~PipelineLayout() {
  if (layout_ != VK_NULL_HANDLE) vkDestroyPipelineLayout(device_, layout_, nullptr);
}

Result<std::unique_ptr<PipelineCache>> PipelineCache::create(const Device& device, const std::string& path) {
  std::unique_ptr<PipelineCache> c(new PipelineCache());
  c->device_ = device.handle();
  c->path_ = path;
  std::vector<std::byte> initial;
  std::error_code ec;
  if (!path.empty() && std::filesystem::exists(path, ec)) {
    auto bytes = read_file(path);
    if (bytes.ok()) initial = std::move(bytes).value();
  }
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  ci.initialDataSize = initial.size();
  ci.pInitialData = initial.empty() ? nullptr : initial.data();
  VkResult r = vkCreatePipelineCache(c->device_, &ci, nullptr, &c->cache_);
  if (r != VK_SUCCESS && !initial.empty()) {
    // A cache from another driver/device: start empty rather than fail.
    ci.initialDataSize = 0;
    ci.pInitialData = nullptr;
    r = vkCreatePipelineCache(c->device_, &ci, nullptr, &c->cache_);
    initial.clear();
  }
  TESSERA_VK(r, "vkCreatePipelineCache");
  c->loaded_ = !initial.empty();
  return c;
}
PipelineCache::~PipelineCache() {
  if (cache_ != VK_NULL_HANDLE) vkDestroyPipelineCache(device_, cache_, nullptr);
}
Status PipelineCache::save() const {
  if (path_.empty()) return Status::ok_status();
  size_t n = 0;
  TESSERA_VK(vkGetPipelineCacheData(device_, cache_, &n, nullptr), "vkGetPipelineCacheData");
  std::vector<std::byte> data(n);
  TESSERA_VK(vkGetPipelineCacheData(device_, cache_, &n, data.data()), "vkGetPipelineCacheData");
  data.resize(n);
  return write_file_atomically(path_, data).with_context("saving the Vulkan pipeline cache " + path_);
}

Result<std::unique_ptr<ComputePipeline>> ComputePipeline::create(const Device& device, const PipelineLayout& layout,
                                                                 const PipelineCache& cache,
                                                                 std::span<const uint32_t> spirv,
                                                                 std::span<const uint32_t> spec,
                                                                 const std::string& name) {
  if (spirv.empty()) return internal_error("vulkan: no embedded SPIR-V for shader '" + name + "'");
  std::unique_ptr<ComputePipeline> p(new ComputePipeline());
  p->device_ = device.handle();
  VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  mi.codeSize = spirv.size_bytes();
  mi.pCode = spirv.data();
  VkShaderModule module = VK_NULL_HANDLE;
  TESSERA_VK(vkCreateShaderModule(p->device_, &mi, nullptr, &module), "vkCreateShaderModule(" + name + ")");
  std::vector<VkSpecializationMapEntry> entries(spec.size());
  for (uint32_t i = 0; i < spec.size(); ++i) entries[i] = {i, i * 4u, 4};
  VkSpecializationInfo si{uint32_t(entries.size()), entries.data(), spec.size_bytes(), spec.data()};
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = &si;
  ci.layout = layout.handle();
  VkResult r = vkCreateComputePipelines(p->device_, cache.handle(), 1, &ci, nullptr, &p->pipeline_);
  vkDestroyShaderModule(p->device_, module, nullptr);
  TESSERA_VK(r, "vkCreateComputePipelines(" + name + ")");
  return p;
}
ComputePipeline::~ComputePipeline() {
  if (pipeline_ != VK_NULL_HANDLE) vkDestroyPipeline(device_, pipeline_, nullptr);
}

Result<std::unique_ptr<DescriptorPool>> DescriptorPool::create(const Device& device, uint32_t max_sets,
                                                               uint32_t max_buffers) {
  std::unique_ptr<DescriptorPool> p(new DescriptorPool());
  p->device_ = device.handle();
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, max_buffers};
  VkDescriptorPoolCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  ci.maxSets = max_sets;
  ci.poolSizeCount = 1;
  ci.pPoolSizes = &size;
  TESSERA_VK(vkCreateDescriptorPool(p->device_, &ci, nullptr, &p->pool_), "vkCreateDescriptorPool");
  return p;
}
DescriptorPool::~DescriptorPool() {
  if (pool_ != VK_NULL_HANDLE) vkDestroyDescriptorPool(device_, pool_, nullptr);  // frees its sets
}
VkResult DescriptorPool::allocate(VkDescriptorSetLayout layout, VkDescriptorSet* set) {
  VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  ai.descriptorPool = pool_;
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &layout;
  return vkAllocateDescriptorSets(device_, &ai, set);
}

}  // namespace tessera::vk
