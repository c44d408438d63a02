#include "vulkan/kernel_table.h"

#include <utility>

namespace tessera::vk {

uint32_t kernel_binding_count(std::string_view name) {
  static constexpr std::pair<std::string_view, uint32_t> kTable[] = {
      {"embed", 4},        {"matvec", 5},       {"layernorm", 4},    {"leaky_scan", 3},
      {"l2norm_heads", 4}, {"value_finish", 5}, {"attn_scores", 5},  {"attn_softmax", 6},
      {"attn_topk", 5},    {"attn_entmax", 5},  {"attn_values", 4},  {"attn_combine", 5},
      {"argmax", 2},
  };
  for (const auto& [n, b] : kTable)
    if (n == name) return b;
  return 0;
}

}  // namespace tessera::vk
