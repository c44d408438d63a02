#include "vulkan/kernel_table.h"

#include <utility>

namespace tessera::vk {

uint32_t kernel_binding_count(std::string_view name) {
  static constexpr std::pair<std::string_view, uint32_t> kTable[] = {
      {"embed", 4},       {"matvec", 7},      {"layernorm", 4},
      {"kv_project", 15}, {"attn_scores", 5}, {"attn_softmax", 6}, {"attn_topk", 5},
      {"attn_entmax", 5}, {"attn_values", 4}, {"attn_combine", 5}, {"attn_softmax_partial", 7},
      {"attn_softmax_combine", 6}, {"argmax", 3},
      {"pmem_softmax", 13}, {"attn_entmax_filter", 7}, {"attn_entmax_threshold", 5},
      {"attn_entmax_apply", 6},       {"matmul", 7},      {"matmul_coopmat_nv", 7},
  };
  for (const auto& [n, b] : kTable)
    if (n == name) return b;
  return 0;
}

}  // namespace tessera::vk
