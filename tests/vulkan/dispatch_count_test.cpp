// Dispatches and barriers of one decode step (the recorded forward of one token), counted by the
// Recording, against what runtime/vulkan/forward.cpp records per layer: a regression here is a
// fusion undone or a pass added. Prompt chunks (tiled products, several kv_project passes) are not
// covered.
#include "model_oracle.h"
#include "vk_test_util.h"
#include "vk_required.h"
#include "vulkan/vulkan_backend_impl.h"

namespace tessera::vk::test {
namespace {

struct Case {
  const char* method;
  bool pre_ln = true, attn_only = false;
  int pmem_count = 2;
};

// Attention passes of one decode row (runtime/vulkan/ops_attention.cpp), each followed by a barrier:
// softmax: one pass (merged by its last workgroup); exact entmax r = 1, 2, 3: scores, filter,
// threshold, values (weights, values and merge); every other transform: scores, transform, values,
// combine.
size_t attention_passes(const std::string& method) {
  if (method == "softmax") return 1;
  if (method == "sparsemax" || method == "entmax15" || method == "entmax43") return 4;
  return 4;
}

// Per layer: [LayerNorm before each block when post-LN], kv_project, attention, out-projection, and
// (unless attention only) one pass per memory (its key projection inside: shaders/pmem_decode.comp),
// pmem_out; each followed by one barrier.
// Around the layers: embed (+ barrier); the output layer with LayerNorm on the fly (+ barrier with
// transfers) and argmax.
struct Expected {
  size_t dispatches, barriers;
};
Expected expected_decode(const Case& c, size_t layers) {
  size_t per_layer = 1 + attention_passes(c.method) + 1;
  if (!c.attn_only) per_layer += size_t(c.pmem_count) + 1;
  if (!c.pre_ln) per_layer += c.attn_only ? 1 : 2;
  return {1 + layers * per_layer + 2, 1 + layers * per_layer + 1};
}

class VulkanDispatchCount : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { (void)take_validation_messages(); }
  void TearDown() override {
    for (const auto& m : take_validation_messages()) ADD_FAILURE() << "Vulkan validation: " << m;
  }
};

TEST_P(VulkanDispatchCount, DecodeStepRecordsTheExpectedPasses) {
  const Case c = GetParam();
  HParams hp;
  hp.vocab_size = 37;
  hp.n_embd = 16;
  hp.n_head = 4;
  hp.n_layer = 3;
  hp.block_size = 32;
  hp.pmem_size = 12;
  hp.pmem_count = c.pmem_count;
  hp.pre_ln = c.pre_ln;
  hp.attn_only = c.attn_only;
  hp.bias = !c.pre_ln;
  hp.method = AttentionMethod::parse(c.method).value();
  RandomModel m = make_random_model(hp, DType::kF16, 17);
  ContextOptions o;
  o.validation = true;
  o.profile = test_profile();
  auto b = make_backend_from_view(m.view, o, nullptr);
  if (!b.ok() && skip_without_device(b.status())) TESSERA_VK_NO_DEVICE(b.status().to_string());
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  auto seq = (*b)->new_sequence(8);
  ASSERT_TRUE(seq.ok()) << seq.status().to_string();
  auto* vs = static_cast<VulkanSequence*>(seq->get());
  EXPECT_EQ(vs->last_dispatches(), 0u);
  const std::vector<int32_t> prompt = {3, 1, 4};
  ASSERT_TRUE(vs->forward_greedy(prompt).ok());
  const Expected want = expected_decode(c, size_t(hp.n_layer));
  for (int step = 0; step < 2; ++step) {  // the first step records; the second replays the same recording
    int32_t tok = vs->greedy_token();
    ASSERT_TRUE(vs->forward_greedy({&tok, 1}).ok());
    EXPECT_EQ(vs->last_dispatches(), want.dispatches) << c.method << " step " << step;
    EXPECT_EQ(vs->last_barriers(), want.barriers) << c.method << " step " << step;
  }
  // Last-row logits copied to the host: the same passes (the copy is no dispatch).
  std::vector<float> logits(size_t(hp.vocab_size));
  int32_t tok = 5;
  ASSERT_TRUE((*seq)->forward({&tok, 1}, logits, false).ok());
  EXPECT_EQ(vs->last_dispatches(), want.dispatches);
  EXPECT_EQ(vs->last_barriers(), want.barriers);
}

INSTANTIATE_TEST_SUITE_P(Models, VulkanDispatchCount,
                         ::testing::Values(Case{"softmax"}, Case{"entmax15"}, Case{"relumax"},
                                           Case{"softmax", true, false, 1}, Case{"entmax43", false},
                                           Case{"norm_relu", false, true}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string name =
                               std::string(i.param.method) + (i.param.pre_ln ? "_preln" : "_postln") +
                               (i.param.attn_only ? "_attnonly" : "_pmem" + std::to_string(i.param.pmem_count));
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace tessera::vk::test
