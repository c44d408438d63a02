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
      {"pmem_softmax", 7},
      {"attn_entmax_filter", 7},
      {"attn_entmax_threshold", 7},
      {"attn_entmax_values", 8},
      {"matmul", 7},
      {"pmem_prefill", 7},
      {"attn_prefill_softmax", 7},
      {"attn_prefill_entmax", 7},
      {"pmem_decode", 8},
  };
  for (const auto& [name, bindings] : expected) {
    const KernelContract* k = find(name);
    ASSERT_NE(k, nullptr) << name;
    EXPECT_EQ(k->bindings, bindings) << name;
  }
  // The gated cooperative-matrix kernels (their binding counts where this build compiled them).
  const std::pair<std::string_view, uint32_t> gated[] = {{"matmul_coopmat_nv", 7},
                                                         {"pmem_prefill_coopmat_nv", 11},
                                                         {"attn_prefill_softmax_coopmat_nv", 7},
                                                         {"attn_prefill_entmax_coopmat_nv", 7}};
  EXPECT_EQ(std::size(expected) + std::size(gated), size_t(kKernelCount)) << "a kernel without an expectation here";
  for (const auto& [name, bindings] : gated) {
    const KernelContract* coop = find(name);
    ASSERT_NE(coop, nullptr) << name;
    if (coop->built) {
      EXPECT_EQ(coop->bindings, bindings) << name;
    }
  }
}

// Mesa V3DV (Raspberry Pi) allows 8 storage buffers per shader stage, and a device below
// kPortableKernelBindings is unusable: every kernel that is not gated on a vendor feature must bind
// at most that many, or a model that needs it is refused there. The whole Vulkan suite also runs
// under the `raspberry-pi` profile (8 per stage), where each kernel's pipeline is checked against it.
TEST(VulkanKernelContract, PortableKernelsBindAtMostEightBuffers) {
  EXPECT_EQ(kPortableKernelBindings, 8u);
  for (const KernelContract& k : kKernelContracts) {
    if (!k.feature.empty()) continue;  // gated (cooperative matrices): checked per kernel where built
    EXPECT_LE(k.bindings, kPortableKernelBindings) << k.name;
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
  // The persistent-memory kernels find the statistics and counters in their one scratch binding at
  // offsets pushed last; the cooperative-matrix prefill keeps its separate bindings and no offsets.
  for (std::string_view name : {"pmem_softmax", "pmem_prefill"}) {
    const KernelContract* k = find(name);
    ASSERT_NE(k, nullptr) << name;
    ASSERT_GE(k->push.size(), 2u) << name;
    EXPECT_EQ(k->push[k->push.size() - 2].name, "stats_off") << name;
    EXPECT_EQ(k->push.back().name, "count_off") << name;
    EXPECT_EQ(k->push.back().offset + 4, k->push_bytes) << name;
  }
  EXPECT_EQ(find("pmem_softmax")->push_bytes, 44u);  // 7 uints, 2 floats, 2 uints
  EXPECT_EQ(find("pmem_prefill")->push_bytes, 52u);  // 9 uints, 2 floats, 2 uints
  const KernelContract* pd = find("pmem_decode");
  ASSERT_NE(pd, nullptr);
  EXPECT_EQ(pd->push_bytes, 52u);  // 9 uints, 3 floats, count_off
  EXPECT_EQ(pd->push.back().name, "count_off");
  if (const KernelContract* coop = find("pmem_prefill_coopmat_nv"); coop && coop->built) {
    EXPECT_EQ(coop->push_bytes, 44u);  // 9 uints, 2 floats
    EXPECT_EQ(coop->push.back().name, "scale");
  }
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
