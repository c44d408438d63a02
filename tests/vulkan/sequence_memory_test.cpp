// GPU memory per sequence: beyond the weights and the key/value caches, a sequence's scratch stays within
// 64 MiB for a GPT-2-small-shaped model (C = 768, 12 heads, vocab 50 304, N = 2 688 slots; one layer, since
// the scratch does not grow with depth) at a 33 024-token capacity: softmax and exact alpha = 1.5, F16 and
// F32 caches. The scratch's largest parts (the layer's key/value projections, the attention's score rows
// and candidate lists, the logits) share one region (runtime/vulkan/forward.cpp).
#include <gtest/gtest.h>

#include "../bench/vulkan/random_model.h"
#include "vk_test_util.h"
#include "vulkan/vulkan_backend_impl.h"

namespace tessera::vk::test {
namespace {

constexpr uint32_t kCapacity = 33024;
constexpr uint64_t kScratchBudget = 64ull << 20;

TEST(VulkanSequenceMemory, ScratchWithin64MiBBeyondWeightsAndCaches) {
  (void)take_validation_messages();
  const bench::ModelShape shape{50304, 768, 12, 1, 2688};
  for (const char* method : {"softmax", "entmax15"}) {
    const ModelView view = bench::random_model(AttentionMethod::parse(method).value(), DType::kF16, shape);
    for (const char* kv_cache : {"f16", "f32"}) {
      ContextOptions o;
      o.validation = true;
      o.profile = test_profile();
      o.kv_cache = kv_cache;
      auto backend = make_backend_from_view(view, o, nullptr);
      if (!backend.ok() && skip_without_device(backend.status()))
        TESSERA_VK_NO_DEVICE("no usable Vulkan device: " << backend.status().to_string());
      ASSERT_TRUE(backend.ok()) << backend.status().to_string();
      auto seq = (*backend)->new_sequence(kCapacity);
      ASSERT_TRUE(seq.ok()) << seq.status().to_string();
      const auto* vseq = static_cast<const VulkanSequence*>(seq->get());
      const bool f16 = (*backend)->context().kv_cache_f16();
      const uint64_t per_cache = f16 ? (uint64_t(kCapacity) * shape.C * 2 + 3) / 4 * 4
                                     : uint64_t(kCapacity) * shape.C * 4;
      const uint64_t caches = uint64_t(shape.layers) * 2 * per_cache;
      ASSERT_GE(vseq->device_bytes(), caches);
      EXPECT_LE(vseq->device_bytes() - caches, kScratchBudget)
          << method << ", " << (f16 ? "F16" : "F32") << " caches: " << (vseq->device_bytes() - caches) / 1048576.0
          << " MiB beyond the caches";
    }
  }
  for (const auto& m : take_validation_messages()) ADD_FAILURE() << "Vulkan validation: " << m;
}

}  // namespace
}  // namespace tessera::vk::test
