// The Vulkan context of one backend: instance, device, allocators, pipeline cache, kernels and the
// upload/readback paths. Created lazily by make_vulkan_backend (nothing Vulkan happens before).
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/status.h"
#include "vulkan/commands.h"
#include "vulkan/device.h"
#include "vulkan/device_profile.h"
#include "vulkan/instance.h"
#include "vulkan/kernels.h"
#include "vulkan/memory.h"
#include "vulkan/pipeline.h"

namespace tessera::vk {

struct ContextOptions {
  int device_index = -1;
  std::string device_name;
  bool force_staging = false;                       // upload through a staging buffer even on host-visible memory
  std::string pipeline_cache_path;                  // empty: in-memory cache only
  bool validation = false;                          // VK_LAYER_KHRONOS_validation + debug messenger
  VkDeviceSize max_slice_bytes = ~VkDeviceSize(0);  // tests lower it below maxStorageBufferRange
  // Plan as if the device had only this profile's limits and features (device_profile.h).
  std::string profile = "full";
  // Prompt chunks with F16 / I8 weights on NVIDIA cooperative matrices where the device has them
  // (x rounded to fp16, docs/numerics.md); false keeps every product in fp32.
  bool cooperative_matrix = true;
  // Element type of the key/value caches: "auto" (F16 where the device, under the profile, has
  // storageBuffer16BitAccess, else F32), "f16" or "f32" (either runs on every device: shaders/kv_cache.glsl).
  std::string kv_cache = "auto";
  // The persistent memory of prompt chunks on NVIDIA cooperative matrices (split-fp16 scores,
  // shaders/pmem_prefill_coopmat_nv.comp) for the heads within its bound; false keeps every head on
  // the compensated fp32 kernel.
  bool pmem_matrix_units = true;
  // Exact entmax of prompt chunks on NVIDIA cooperative matrices (shaders/attn_prefill_entmax_coopmat_nv.comp)
  // where the softmax runs there; false keeps the per-row passes on such devices. Off by default until
  // it has been checked and timed on NVIDIA hardware (lavapipe has no cooperative matrices).
  bool entmax_matrix_units = false;
};

// One compute kernel (shaders/<name>.comp) specialised with given constants.
struct Kernel {
  KernelId id;
  const DescriptorSetLayout* set_layout = nullptr;
  const PipelineLayout* layout = nullptr;
  std::unique_ptr<ComputePipeline> pipeline;
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> create(const ContextOptions& options);
  ~Context();  // saves the pipeline cache file
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // The device as planned: its limits and features under the requested profile.
  const Device& device() const { return *device_; }
  const PhysicalDeviceInfo& info() const { return device_->info(); }
  // What kernels plan with (workgroup, shared-memory and buffer sizes, subgroup or shared flavour).
  const KernelLimits& limits() const { return limits_; }
  uint32_t subgroup_size() const { return device_->info().subgroup_size; }
  // Workgroup size used by the row-parallel kernels: a multiple of the subgroup size, >= 64 where
  // the limits allow, a power of two.
  uint32_t workgroup_size() const { return workgroup_size_; }
  // `wanted` lowered to a power of two within the workgroup limits.
  uint32_t fit_workgroup(uint32_t wanted) const;
  // Subgroups in a workgroup of `wg` threads: the kernels that give each subgroup its own row
  // dispatch this many rows per workgroup (1 in the shared flavour, where the subgroup is the workgroup).
  uint32_t rows_per_workgroup(uint32_t wg) const {
    return limits_.subgroups ? std::max(1u, wg / limits_.subgroup_size) : 1u;
  }
  bool direct_upload() const { return direct_upload_; }
  // The key/value caches hold IEEE halves (ContextOptions::kv_cache resolved for this device).
  bool kv_cache_f16() const { return kv_cache_f16_; }
  bool pmem_matrix_units() const { return options_.pmem_matrix_units; }
  bool entmax_matrix_units() const { return options_.entmax_matrix_units; }
  bool pipeline_cache_loaded() const { return cache_->loaded_from_file(); }
  Status save_pipeline_cache() const { return cache_->save(); }

  // Device-local storage (weights, caches, scratch) owned by `allocator`.
  BlockAllocator make_device_allocator() const;
  BlockAllocator make_host_allocator(MemoryKind kind) const;
  BlockAllocator& weights() { return *weights_; }
  // A 16-byte zero buffer bound where a kernel's optional input is absent.
  const BufferSlice& dummy() const { return dummy_; }

  // Copies host bytes into a device slice: memcpy when it is mapped (direct path), else through the
  // staging buffer and a transfer command.
  Status write(const BufferSlice& dst, std::span<const std::byte> bytes, VkDeviceSize dst_offset = 0);
  Result<BufferSlice> upload(std::span<const std::byte> bytes, const std::string& what);
  Result<BufferSlice> upload_floats(std::span<const float> values, const std::string& what);
  // Reads a device slice back to the host (through the readback staging buffer).
  Status read(const BufferSlice& src, std::span<std::byte> out, VkDeviceSize src_offset = 0);
  Status fill_zero(const BufferSlice& dst);

  // The pipeline of `id` in the flavour the limits call for, specialised with spec[i] for constant id i
  // (ids past spec.size() keep their defaults), built on first use.
  Result<const Kernel*> kernel(KernelId id, std::vector<uint32_t> spec);

  CommandPool& command_pool() { return *pool_; }
  Fence& fence() { return *fence_; }

 private:
  Context() = default;
  Status copy_region(const BufferSlice& src, VkDeviceSize src_off, const BufferSlice& dst, VkDeviceSize dst_off,
                     VkDeviceSize size);
  ContextOptions options_;
  std::unique_ptr<Instance> instance_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<PipelineCache> cache_;
  std::unique_ptr<CommandPool> pool_;
  std::unique_ptr<Fence> fence_;
  std::unique_ptr<BlockAllocator> weights_, staging_alloc_, readback_alloc_;
  BufferSlice staging_, readback_, dummy_;
  bool direct_upload_ = false;
  bool kv_cache_f16_ = false;
  KernelLimits limits_;
  uint32_t workgroup_size_ = 64;
  std::map<uint32_t, std::pair<std::unique_ptr<DescriptorSetLayout>, std::unique_ptr<PipelineLayout>>> layouts_;
  std::map<std::pair<KernelId, std::vector<uint32_t>>, std::unique_ptr<Kernel>> kernels_;
};

}  // namespace tessera::vk
