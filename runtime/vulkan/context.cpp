#include "vulkan/context.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "vulkan/spirv_shared_memory.h"
#include "vulkan/vk_check.h"

namespace tessera::vk {
namespace {
constexpr VkDeviceSize kBlockBytes = 256ull << 20;   // device-local blocks (clamped to the max range)
constexpr VkDeviceSize kStagingBytes = 16ull << 20;  // one staging buffer each way, reused
}  // namespace

Result<std::unique_ptr<Context>> Context::create(const ContextOptions& options) {
  const DeviceProfile* profile = find_device_profile(options.profile);
  if (profile == nullptr)
    return invalid_argument("vulkan: unknown device profile '" + options.profile + "' (expected one of " +
                            device_profile_names() + ")");
  if (options.kv_cache != "auto" && options.kv_cache != "f16" && options.kv_cache != "f32")
    return invalid_argument("vulkan: unknown key/value cache type '" + options.kv_cache +
                            "' (expected auto, f16 or f32)");
  std::unique_ptr<Context> c(new Context());
  c->options_ = options;
  TESSERA_ASSIGN_OR_RETURN(c->instance_, Instance::create(options.validation));
  TESSERA_ASSIGN_OR_RETURN(auto devices, enumerate_devices(c->instance_->handle()));
  TESSERA_ASSIGN_OR_RETURN(auto chosen, select_device(devices, options.device_index, options.device_name));
  // Off: the NVIDIA cooperative-matrix extensions are neither enabled nor used (fp32 prompt chunks).
  if (!options.cooperative_matrix) chosen.shader_features.cooperative_matrix_nv = false;
  TESSERA_ASSIGN_OR_RETURN(auto planned, apply_profile(chosen, *profile));
  TESSERA_ASSIGN_OR_RETURN(c->device_, Device::create(planned));
  const auto& info = c->device_->info();
  c->limits_ = kernel_limits(info, profile->name);
  c->kv_cache_f16_ = options.kv_cache == "f16" || (options.kv_cache == "auto" && c->limits_.storage_16bit);
  if (kPushConstantBytes > c->limits_.max_push_constant_bytes)
    return unsupported("vulkan: the kernels need " + std::to_string(kPushConstantBytes) +
                       " bytes of push constants; maxPushConstantsSize is " +
                       std::to_string(c->limits_.max_push_constant_bytes));
  c->workgroup_size_ = c->fit_workgroup(std::clamp<uint32_t>(8 * info.subgroup_size, 64, 256));
  // UMA devices (integrated GPUs, CPU drivers) map their device-local memory: no staging copy needed.
  bool uma = info.type == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU || info.type == VK_PHYSICAL_DEVICE_TYPE_CPU;
  c->direct_upload_ = uma && !options.force_staging;
  TESSERA_ASSIGN_OR_RETURN(c->cache_, PipelineCache::create(*c->device_, options.pipeline_cache_path));
  TESSERA_ASSIGN_OR_RETURN(c->pool_, CommandPool::create(*c->device_));
  TESSERA_ASSIGN_OR_RETURN(c->fence_, Fence::create(*c->device_));
  c->weights_ = std::make_unique<BlockAllocator>(c->make_device_allocator());
  // Staging buffers are copy sources/targets only, never bound: not limited by the test override.
  c->staging_alloc_ = std::make_unique<BlockAllocator>(*c->device_, MemoryKind::kHostUpload, kStagingBytes, false);
  c->readback_alloc_ = std::make_unique<BlockAllocator>(*c->device_, MemoryKind::kHostReadback, kStagingBytes, false);
  TESSERA_ASSIGN_OR_RETURN(c->staging_, c->staging_alloc_->allocate(kStagingBytes, "staging buffer"));
  TESSERA_ASSIGN_OR_RETURN(c->readback_, c->readback_alloc_->allocate(kStagingBytes, "readback buffer"));
  TESSERA_ASSIGN_OR_RETURN(c->dummy_, c->weights_->allocate(16, "dummy buffer"));
  TESSERA_RETURN_IF_ERROR(c->fill_zero(c->dummy_));
  return c;
}

Context::~Context() {
  if (device_) vkDeviceWaitIdle(device_->handle());
  kernels_.clear();
  layouts_.clear();
  if (cache_) (void)cache_->save();  // best effort: a read-only disk only costs the next start
}

uint32_t Context::fit_workgroup(uint32_t wanted) const {
  return std::bit_floor(std::max(1u, std::min(wanted, limits_.max_workgroup_invocations)));
}

BlockAllocator Context::make_device_allocator() const {
  return BlockAllocator(*device_, MemoryKind::kDeviceLocal, kBlockBytes, direct_upload_, options_.max_slice_bytes);
}

BlockAllocator Context::make_host_allocator(MemoryKind kind) const {
  return BlockAllocator(*device_, kind, 1ull << 20, false, options_.max_slice_bytes);
}

Status Context::copy_region(const BufferSlice& src, VkDeviceSize src_off, const BufferSlice& dst, VkDeviceSize dst_off,
                            VkDeviceSize size) {
  TESSERA_ASSIGN_OR_RETURN(auto cb, CommandBuffer::create(*device_, *pool_));
  TESSERA_RETURN_IF_ERROR(cb->begin(true));
  VkBufferCopy region{src.offset + src_off, dst.offset + dst_off, size};
  vkCmdCopyBuffer(cb->handle(), src.buffer, dst.buffer, 1, &region);
  TESSERA_RETURN_IF_ERROR(cb->end());
  return submit_and_wait(*device_, cb->handle(), *fence_);
}

Status Context::write(const BufferSlice& dst, std::span<const std::byte> bytes, VkDeviceSize dst_offset) {
  if (dst_offset + bytes.size() > dst.size) return internal_error("vulkan: write past the end of a buffer");
  if (dst.mapped) {
    std::memcpy(dst.mapped + dst_offset, bytes.data(), bytes.size());
    return Status::ok_status();
  }
  for (size_t done = 0; done < bytes.size();) {
    size_t n = std::min<size_t>(bytes.size() - done, staging_.size);
    std::memcpy(staging_.mapped, bytes.data() + done, n);
    TESSERA_RETURN_IF_ERROR(copy_region(staging_, 0, dst, dst_offset + done, n));
    done += n;
  }
  return Status::ok_status();
}

Result<BufferSlice> Context::upload(std::span<const std::byte> bytes, const std::string& what) {
  TESSERA_ASSIGN_OR_RETURN(BufferSlice s, weights_->allocate(std::max<size_t>(bytes.size(), 4), what));
  TESSERA_RETURN_IF_ERROR(write(s, bytes));
  return s;
}

Result<BufferSlice> Context::upload_floats(std::span<const float> values, const std::string& what) {
  return upload(std::as_bytes(values), what);
}

Status Context::read(const BufferSlice& src, std::span<std::byte> out, VkDeviceSize src_offset) {
  if (src_offset + out.size() > src.size) return internal_error("vulkan: read past the end of a buffer");
  if (src.mapped) {
    std::memcpy(out.data(), src.mapped + src_offset, out.size());
    return Status::ok_status();
  }
  for (size_t done = 0; done < out.size();) {
    size_t n = std::min<size_t>(out.size() - done, readback_.size);
    TESSERA_RETURN_IF_ERROR(copy_region(src, src_offset + done, readback_, 0, n));
    std::memcpy(out.data() + done, readback_.mapped, n);
    done += n;
  }
  return Status::ok_status();
}

Status Context::fill_zero(const BufferSlice& dst) {
  if (dst.mapped) {
    std::memset(dst.mapped, 0, dst.size);
    return Status::ok_status();
  }
  TESSERA_ASSIGN_OR_RETURN(auto cb, CommandBuffer::create(*device_, *pool_));
  TESSERA_RETURN_IF_ERROR(cb->begin(true));
  vkCmdFillBuffer(cb->handle(), dst.buffer, dst.offset, (dst.size + 3) / 4 * 4, 0);
  TESSERA_RETURN_IF_ERROR(cb->end());
  return submit_and_wait(*device_, cb->handle(), *fence_);
}

Result<const Kernel*> Context::kernel(KernelId id, std::vector<uint32_t> spec) {
  auto key = std::make_pair(id, spec);
  auto it = kernels_.find(key);
  if (it != kernels_.end()) return it->second.get();
  const KernelContract& contract = kernel_contract(id);
  const std::string name(contract.name);
  if (!contract.built)
    return unsupported("vulkan: kernel '" + name + "' is not in this build (glslc rejects " +
                       std::string(contract.feature) + ")");
  const uint32_t bindings = contract.bindings;
  if (bindings > limits_.max_storage_buffers)
    return unsupported("vulkan: kernel '" + name + "' binds " + std::to_string(bindings) +
                       " storage buffers; the device (profile " + limits_.profile + ") allows " +
                       std::to_string(limits_.max_storage_buffers) + " per stage");
  if (spec.size() > contract.spec.size())
    return internal_error("vulkan: kernel '" + name + "' has " + std::to_string(contract.spec.size()) +
                          " specialisation constants, got " + std::to_string(spec.size()));
  if (spec.empty() || spec[0] == 0 || spec[0] > limits_.max_workgroup_invocations)
    return unsupported("vulkan: kernel '" + name + "' needs a workgroup of " +
                       std::to_string(spec.empty() ? 0 : spec[0]) + " threads; the device (profile " + limits_.profile +
                       ") allows " + std::to_string(limits_.max_workgroup_invocations));
  // The shared-memory flavour wherever subgroup operations are not to be used.
  const std::string flavour = limits_.subgroups ? name : name + "/shared";
  std::span<const uint32_t> spirv = kernel_spirv(id, limits_.subgroups);
  if (spirv.empty())
    return unsupported("vulkan: kernel '" + name + "' has no " +
                       (limits_.subgroups ? "subgroup" : "shared-memory (no subgroup operations)") +
                       " flavour in this build");
  TESSERA_ASSIGN_OR_RETURN(uint64_t shared_bytes, workgroup_memory_bytes(spirv, spec));
  if (shared_bytes > limits_.max_shared_bytes)
    return unsupported("vulkan: kernel '" + flavour + "' needs " + std::to_string(shared_bytes) +
                       " bytes of shared memory with workgroup " + std::to_string(spec[0]) + "; the device (profile " +
                       limits_.profile + ") has " + std::to_string(limits_.max_shared_bytes));
  auto& lay = layouts_[bindings];
  if (!lay.first) {
    TESSERA_ASSIGN_OR_RETURN(lay.first, DescriptorSetLayout::create(*device_, bindings));
    TESSERA_ASSIGN_OR_RETURN(lay.second, PipelineLayout::create(*device_, *lay.first));
  }
  auto k = std::make_unique<Kernel>();
  k->id = id;
  k->set_layout = lay.first.get();
  k->layout = lay.second.get();
  TESSERA_ASSIGN_OR_RETURN(k->pipeline, ComputePipeline::create(*device_, *lay.second, *cache_, spirv, spec, flavour));
  const Kernel* out = k.get();
  kernels_.emplace(std::move(key), std::move(k));
  return out;
}

}  // namespace tessera::vk
