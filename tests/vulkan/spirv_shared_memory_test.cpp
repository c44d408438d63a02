// The shared-memory size read from SPIR-V (Context::kernel's check against the effective limit), on
// the shaders this build embeds: sizes follow from the arrays the GLSL declares.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "vulkan/kernels.h"
#include "vulkan/spirv_shared_memory.h"

namespace tessera::vk {
namespace {

// "name" is the subgroup flavour, "name/shared" the shared-memory one.
std::span<const uint32_t> find_spirv(std::string_view flavour) {
  const bool shared = flavour.ends_with("/shared");
  if (shared) flavour.remove_suffix(7);
  for (uint32_t i = 0; i < kKernelCount; ++i)
    if (kernel_name(KernelId(i)) == flavour) return kernel_spirv(KernelId(i), !shared);
  return {};
}

uint64_t bytes_of(const char* kernel, std::vector<uint32_t> spec) {
  auto spirv = find_spirv(kernel);
  EXPECT_FALSE(spirv.empty()) << kernel;
  auto b = workgroup_memory_bytes(spirv, spec);
  EXPECT_TRUE(b.ok()) << kernel << ": " << b.status().to_string();
  return b.ok() ? b.value() : 0;
}

TEST(VulkanSpirvSharedMemory, LayerNormIsOneFloatPerThread) {
  // reduce.glsl: reduce_slots[WG] floats; the shared flavour adds subgroup_shared.glsl's sgs_words[WG].
  EXPECT_EQ(bytes_of("layernorm", {64}), 64u * 4);
  EXPECT_EQ(bytes_of("layernorm", {128}), 128u * 4);
  EXPECT_EQ(bytes_of("layernorm/shared", {128}), 128u * 8);
}

TEST(VulkanSpirvSharedMemory, SpecializationConstantsSizeTheArrays) {
  // attn_entmax_threshold: held[SHCAP] floats (constant 1), so 1,024 more candidates are 4 KiB more.
  const uint64_t small = bytes_of("attn_entmax_threshold", {256, 1024, 1024});
  const uint64_t big = bytes_of("attn_entmax_threshold", {256, 2048, 1024});
  EXPECT_EQ(big - small, 4096u);
  // seg_off[SEGMAX] words (constant 2).
  EXPECT_EQ(bytes_of("attn_entmax_threshold", {256, 1024, 2048}) - small, 4096u);
  // red[5 * WG] and scan_tot[WG]: 24 bytes per thread (the workgroup size is constant 0).
  EXPECT_EQ(small - bytes_of("attn_entmax_threshold", {128, 1024, 1024}), 128u * 24);
  // The shared flavour: 4 more bytes per thread.
  EXPECT_EQ(bytes_of("attn_entmax_threshold/shared", {256, 1024, 1024}) - small, 256u * 4);
  // Defaults when a constant is not given (SHCAP 4096, SEGMAX as declared): no smaller than with 1024.
  EXPECT_GT(bytes_of("attn_entmax_threshold", {256}), small);
}

// Cooperative-matrix loads and stores need 16-byte aligned shared operands, and GLSL cannot state an
// alignment: a kernel keeps every shared variable a multiple of 16 bytes so that no placement leaves
// an array off the boundary (a lone scalar among them misplaced the arrays on the H100). Sizes at the
// kernels' default specialization constants; the host's tiles keep the same multiples.
TEST(VulkanSpirvSharedMemory, CooperativeMatrixKernelsKeepSixteenByteVariables) {
  int checked = 0;
  for (uint32_t i = 0; i < kKernelCount; ++i) {
    const std::string_view name = kernel_name(KernelId(i));
    if (name.find("coopmat") == std::string_view::npos) continue;
    auto spirv = kernel_spirv(KernelId(i), true);
    if (spirv.empty()) continue;  // not compiled by this build's glslc
    auto sizes = workgroup_variable_bytes(spirv, {});
    ASSERT_TRUE(sizes.ok()) << name << ": " << sizes.status().to_string();
    for (size_t v = 0; v < sizes->size(); ++v) EXPECT_EQ((*sizes)[v] % 16, 0u) << name << " shared variable " << v;
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "this build's glslc compiled no cooperative-matrix kernel";
}

TEST(VulkanSpirvSharedMemory, RejectsWhatIsNotSpirv) {
  std::vector<uint32_t> junk = {1, 2, 3, 4, 5, 6};
  EXPECT_FALSE(workgroup_memory_bytes(junk, {}).ok());
  auto spirv = find_spirv("layernorm");
  std::vector<uint32_t> cut(spirv.begin(), spirv.begin() + long(spirv.size() / 2));
  cut.push_back(0xffff0000u | 59);  // an instruction longer than what is left
  EXPECT_FALSE(workgroup_memory_bytes(cut, {}).ok());
}

}  // namespace
}  // namespace tessera::vk
