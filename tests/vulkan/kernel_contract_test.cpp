// The kernel contracts reflected from SPIR-V at build time (vulkan/kernel_contracts.h) against what the
// shaders declare, written down here independently of the reflection: binding counts, push-constant
// sizes and offsets, specialisation constants, and the embedded flavours each kernel has.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

#include "vulkan/kernels.h"

namespace tessera::vk {
namespace {

const KernelContract* find(std::string_view name) {
  for (const KernelContract& k : kKernelContracts)
    if (k.name == name) return &k;
  return nullptr;
}

TEST(VulkanKernelContract, BindingCountsAreTheShadersDeclaredBuffers) {
  // Counted from the `binding = N` declarations of each shaders/<name>.comp and its includes.
  const std::pair<std::string_view, uint32_t> expected[] = {
      {"embed", 4},
      {"matvec", 7},
      {"layernorm", 4},
      {"kv_project", 8},
      {"attn_scores", 5},
      {"attn_relumax", 6},
      {"attn_norm_relu", 6},
      {"attn_topk_softmax", 5},
      {"attn_topk_uniform", 5},
      {"attn_entmax", 5},
      {"attn_values", 4},
      {"attn_combine", 5},
      {"attn_softmax_partial", 8},
      {"argmax", 3},
      {"pmem_softmax", 13},
      {"attn_entmax_filter", 7},
      {"attn_entmax_threshold", 5},
      {"attn_entmax_values", 8},
      {"matmul", 7},
      {"pmem_prefill", 13},
      {"attn_prefill_softmax", 7},
      {"attn_prefill_entmax", 7},
      {"pmem_decode", 15},
  };
  for (const auto& [name, bindings] : expected) {
    const KernelContract* k = find(name);
    ASSERT_NE(k, nullptr) << name;
    EXPECT_EQ(k->bindings, bindings) << name;
  }
  // The gated cooperative-matrix kernels (their binding counts where this build compiled them).
  const std::pair<std::string_view, uint32_t> gated[] = {{"matmul_coopmat_nv", 7},
                                                         {"pmem_prefill_coopmat_nv", 11},
                                                         {"attn_prefill_softmax_coopmat_nv", 7}};
  EXPECT_EQ(std::size(expected) + std::size(gated), size_t(kKernelCount)) << "a kernel without an expectation here";
  for (const auto& [name, bindings] : gated) {
    const KernelContract* coop = find(name);
    ASSERT_NE(coop, nullptr) << name;
    if (coop->built) EXPECT_EQ(coop->bindings, bindings) << name;
  }
}

TEST(VulkanKernelContract, PushConstantLayoutsFollowTheGlslBlocks) {
  // kv_project: uint M, n, x_stride, x_offset, flags; float ln_eps; uint d; float eps; uint counter_off.
  const KernelContract* kv = find("kv_project");
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->push_bytes, 36u);
  ASSERT_EQ(kv->push.size(), 9u);
  EXPECT_EQ(kv->push[5].name, "ln_eps");
  EXPECT_EQ(kv->push[5].offset, 20u);
  EXPECT_EQ(kv->push[7].name, "eps");
  EXPECT_EQ(kv->push[7].offset, 28u);
  // The ReLU transforms share one block (attn_dense_transform.glsl), without a `kind` selector.
  for (std::string_view name : {"attn_relumax", "attn_norm_relu"}) {
    const KernelContract* k = find(name);
    ASSERT_NE(k, nullptr) << name;
    EXPECT_EQ(k->push_bytes, 28u) << name;
    ASSERT_FALSE(k->push.empty());
    EXPECT_EQ(k->push[0].name, "H") << name;
    for (const PushMember& m : k->push) EXPECT_NE(m.name, "kind") << name;
  }
  for (const KernelContract& k : kKernelContracts) {
    if (!k.built) continue;
    EXPECT_LE(k.push_bytes, kPushConstantBytes) << k.name;
    uint32_t end = 0;
    for (const PushMember& m : k.push) {
      EXPECT_EQ(m.offset % 4, 0u) << k.name << "::" << m.name;
      EXPECT_GE(m.offset, end) << k.name << "::" << m.name << " overlaps the member before it";
      end = m.offset + m.size;
    }
    EXPECT_EQ(end, k.push_bytes) << k.name;
  }
}

TEST(VulkanKernelContract, SpecialisationConstantsStartWithTheWorkgroupSize) {
  for (const KernelContract& k : kKernelContracts) {
    if (!k.built) continue;
    ASSERT_FALSE(k.spec.empty()) << k.name;
    EXPECT_EQ(k.spec[0].name, "WG") << k.name << ": constant 0 is the workgroup size (common.glsl)";
    for (uint32_t i = 0; i < k.spec.size(); ++i) EXPECT_EQ(k.spec[i].id, i) << k.name;
  }
  const KernelContract* mv = find("matvec");
  ASSERT_NE(mv, nullptr);
  ASSERT_EQ(mv->spec.size(), 5u);
  EXPECT_EQ(mv->spec[1].name, "WTYPE");
  EXPECT_EQ(mv->spec[2].name, "KC");
  EXPECT_EQ(mv->spec[3].name, "VEC16");
  EXPECT_EQ(mv->spec[4].name, "MR");
  const KernelContract* th = find("attn_entmax_threshold");
  ASSERT_NE(th, nullptr);
  ASSERT_EQ(th->spec.size(), 3u);
  EXPECT_EQ(th->spec[1].name, "SHCAP");
  EXPECT_EQ(th->spec[2].name, "SEGMAX");
}

TEST(VulkanKernelContract, EveryBuiltKernelIsEmbeddedInItsFlavours) {
  std::set<std::string_view> names;
  for (uint32_t i = 0; i < kKernelCount; ++i) {
    const KernelId id = KernelId(i);
    const KernelContract& k = kernel_contract(id);
    EXPECT_TRUE(names.insert(k.name).second) << k.name;
    EXPECT_EQ(kernel_name(id), k.name);
    EXPECT_EQ(!kernel_spirv(id, true).empty(), k.built) << k.name;
    // Gated variants exist only in the subgroup flavour; every portable kernel has both.
    EXPECT_EQ(!kernel_spirv(id, false).empty(), k.feature.empty()) << k.name;
  }
}

}  // namespace
}  // namespace tessera::vk
