#include "vulkan/recording.h"

#include <algorithm>

#include "vulkan/vk_check.h"

namespace tessera::vk {
namespace {
constexpr uint32_t kSetsPerPool = 256;
constexpr uint32_t kMaxProfiled = 2048;  // dispatches timed in profile mode (a 64-row forward has ~200)
}  // namespace

Result<std::unique_ptr<Recording>> Recording::create(Context& context, uint32_t timestamps, bool profile) {
  std::unique_ptr<Recording> r(new Recording(context));
  TESSERA_ASSIGN_OR_RETURN(r->cb_, CommandBuffer::create(context.device(), context.command_pool()));
  if (timestamps > 0 && context.info().timestamps) {
    r->profile_ = profile;
    const uint32_t slots = timestamps + (profile ? kMaxProfiled : 0);
    TESSERA_ASSIGN_OR_RETURN(r->queries_, QueryPool::create(context.device(), slots));
    r->query_count_ = timestamps;
  }
  return r;
}

Status Recording::begin() {
  TESSERA_RETURN_IF_ERROR(cb_->begin(false));
  if (queries_) vkCmdResetQueryPool(cb_->handle(), queries_->handle(), 0, query_count_ + (profile_ ? kMaxProfiled : 0));
  labels_.clear();
  dispatches_ = barriers_ = 0;
  return Status::ok_status();
}

Status Recording::dispatch_raw(KernelId id, std::vector<uint32_t> spec, std::span<const BufferSlice> buffers,
                               const void* push, size_t push_size, Groups groups) {
  const std::string kernel(kernel_name(id));
  // Beyond maxComputeWorkGroupCount a dispatch is undefined behaviour (the minimum is 65 535 per
  // dimension): a grid that large (a huge vocabulary on one-row workgroups, say) is refused instead.
  const uint32_t(&most)[3] = context_.device().limits().maxComputeWorkGroupCount;
  if (groups.x > most[0] || groups.y > most[1] || groups.z > most[2])
    return unsupported("vulkan: kernel '" + kernel + "' needs " + std::to_string(groups.x) + " x " +
                       std::to_string(groups.y) + " x " + std::to_string(groups.z) +
                       " workgroups; the device dispatches at most " + std::to_string(most[0]) + " x " +
                       std::to_string(most[1]) + " x " + std::to_string(most[2]));
  TESSERA_ASSIGN_OR_RETURN(const Kernel* k, context_.kernel(id, std::move(spec)));
  if (buffers.size() != k->set_layout->bindings())
    return internal_error("vulkan: kernel '" + kernel + "' takes " + std::to_string(k->set_layout->bindings()) +
                          " buffers, got " + std::to_string(buffers.size()));
  VkDescriptorSet set = VK_NULL_HANDLE;
  VkResult r = pools_.empty() ? VK_ERROR_OUT_OF_POOL_MEMORY : pools_.back()->allocate(k->set_layout->handle(), &set);
  if (r == VK_ERROR_OUT_OF_POOL_MEMORY || r == VK_ERROR_FRAGMENTED_POOL) {
    TESSERA_ASSIGN_OR_RETURN(auto pool, DescriptorPool::create(context_.device(), kSetsPerPool,
                                                               kSetsPerPool * kMaxKernelBindings));
    pools_.push_back(std::move(pool));
    r = pools_.back()->allocate(k->set_layout->handle(), &set);
  }
  TESSERA_VK(r, "vkAllocateDescriptorSets");
  VkDescriptorBufferInfo infos[kMaxKernelBindings];
  VkWriteDescriptorSet writes[kMaxKernelBindings];
  uint32_t i = 0;
  for (const BufferSlice& b : buffers) {
    if (!b.valid())
      return internal_error("vulkan: kernel '" + kernel + "' got an unset buffer at binding " + std::to_string(i));
    infos[i] = {b.buffer, b.offset, b.size};
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
    ++i;
  }
  vkUpdateDescriptorSets(context_.device().handle(), i, writes, 0, nullptr);
  VkCommandBuffer cb = cb_->handle();
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->pipeline->handle());
  vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout->handle(), 0, 1, &set, 0, nullptr);
  vkCmdPushConstants(cb, k->layout->handle(), VK_SHADER_STAGE_COMPUTE_BIT, 0, uint32_t(push_size), push);
  vkCmdDispatch(cb, groups.x, groups.y, groups.z);
  if (profile_ && labels_.size() < kMaxProfiled) {
    vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_->handle(),
                        query_count_ + uint32_t(labels_.size()));
    labels_.push_back(kernel + " " + std::to_string(groups.x) + "x" + std::to_string(groups.y) + "x" +
                      std::to_string(groups.z));
  }
  ++dispatches_;
  return Status::ok_status();
}

void Recording::barrier() {
  ++barriers_;
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  vkCmdPipelineBarrier(cb_->handle(), VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                       &mb, 0, nullptr, 0, nullptr);
}

void Recording::barrier_with_transfers() {
  ++barriers_;
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                     VK_ACCESS_TRANSFER_WRITE_BIT;
  VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  vkCmdPipelineBarrier(cb_->handle(), stages, stages, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

void Recording::copy(const BufferSlice& src, VkDeviceSize src_off, const BufferSlice& dst, VkDeviceSize dst_off,
                     VkDeviceSize size) {
  VkBufferCopy region{src.offset + src_off, dst.offset + dst_off, size};
  vkCmdCopyBuffer(cb_->handle(), src.buffer, dst.buffer, 1, &region);
}

void Recording::fill(const BufferSlice& dst, uint32_t value) {
  vkCmdFillBuffer(cb_->handle(), dst.buffer, dst.offset, dst.size, value);
}

void Recording::timestamp(uint32_t slot) {
  if (queries_ && slot < query_count_) {
    vkCmdWriteTimestamp(cb_->handle(), VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_->handle(), slot);
    timestamps_used_ = std::max(timestamps_used_, slot + 1);
  }
}

Status Recording::end() {
  // Results become visible to the host after the fence.
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cb_->handle(), VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  return cb_->end();
}

Status Recording::submit() { return submit_and_wait(context_.device(), cb_->handle(), context_.fence()); }

Result<double> Recording::elapsed_ns(uint32_t first, uint32_t second) const {
  if (!queries_) return unavailable("vulkan: the device has no timestamp queries");
  return queries_->elapsed_ns(first, second);
}

Result<std::vector<Recording::ProfileEntry>> Recording::profile() const {
  if (!profile_) return unavailable("vulkan: this recording was not made in profile mode");
  std::vector<ProfileEntry> out;
  double prev = 0;
  for (size_t i = 0; i < labels_.size(); ++i) {
    TESSERA_ASSIGN_OR_RETURN(double t, queries_->elapsed_ns(0, query_count_ + uint32_t(i)));
    out.push_back({labels_[i], t - prev});
    prev = t;
  }
  return out;
}

}  // namespace tessera::vk
