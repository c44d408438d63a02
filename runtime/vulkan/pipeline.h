// Pipeline objects, one small RAII class each: descriptor set layout, pipeline layout, compute
// pipeline (SPIR-V embedded at build time + specialization constants), pipeline cache (optionally
// loaded from / saved to a file), descriptor pool.
#pragma once

#include <volk.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/status.h"
#include "vulkan/device.h"
#include "vulkan/kernels.h"

namespace tessera::vk {

class DescriptorSetLayout {
 public:
  // `bindings` storage buffers at bindings 0..n-1, compute stage.
  static Result<std::unique_ptr<DescriptorSetLayout>> create(const Device& device, uint32_t bindings);
  ~DescriptorSetLayout();
  DescriptorSetLayout(const DescriptorSetLayout&) = delete;
  DescriptorSetLayout& operator=(const DescriptorSetLayout&) = delete;
  VkDescriptorSetLayout handle() const { return layout_; }
  uint32_t bindings() const { return bindings_; }

 private:
  DescriptorSetLayout() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout layout_ = VK_NULL_HANDLE;
  uint32_t bindings_ = 0;
};

class PipelineLayout {
 public:
  static Result<std::unique_ptr<PipelineLayout>> create(const Device& device, const DescriptorSetLayout& set);
  ~PipelineLayout();
  PipelineLayout(const PipelineLayout&) = delete;
  PipelineLayout& operator=(const PipelineLayout&) = delete;
  VkPipelineLayout handle() const { return layout_; }

 private:
  PipelineLayout() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
};

class PipelineCache {
 public:
  // Loads `path` when it exists and matches this device (the driver validates the header);
  // an empty path keeps the cache in memory only.
  static Result<std::unique_ptr<PipelineCache>> create(const Device& device, const std::string& path);
  ~PipelineCache();
  PipelineCache(const PipelineCache&) = delete;
  PipelineCache& operator=(const PipelineCache&) = delete;
  VkPipelineCache handle() const { return cache_; }
  // Writes the cache to its file atomically (no-op without a path).
  Status save() const;
  bool loaded_from_file() const { return loaded_; }

 private:
  PipelineCache() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  std::string path_;
  bool loaded_ = false;
};

class ComputePipeline {
 public:
  // spec[i] is specialization constant id i (uint32).
  static Result<std::unique_ptr<ComputePipeline>> create(const Device& device, const PipelineLayout& layout,
                                                         const PipelineCache& cache, std::span<const uint32_t> spirv,
                                                         std::span<const uint32_t> spec, const std::string& name);
  ~ComputePipeline();
  ComputePipeline(const ComputePipeline&) = delete;
  ComputePipeline& operator=(const ComputePipeline&) = delete;
  VkPipeline handle() const { return pipeline_; }

 private:
  ComputePipeline() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
};

class DescriptorPool {
 public:
  static Result<std::unique_ptr<DescriptorPool>> create(const Device& device, uint32_t max_sets, uint32_t max_buffers);
  ~DescriptorPool();
  DescriptorPool(const DescriptorPool&) = delete;
  DescriptorPool& operator=(const DescriptorPool&) = delete;
  // VK_ERROR_OUT_OF_POOL_MEMORY / FRAGMENTED when full (the caller opens another pool).
  VkResult allocate(VkDescriptorSetLayout layout, VkDescriptorSet* set);

 private:
  DescriptorPool() = default;
  VkDevice device_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
};

}  // namespace tessera::vk
