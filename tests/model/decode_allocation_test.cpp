// "No allocation in the per-token path": after the session exists and has seen one token, decode
// steps must not call operator new. Counted by replacing the global allocation functions.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "model/convert.h"
#include "support/random_model.h"
#include "tessera/tessera.h"
#include "test_util.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tessera {
namespace {

TEST(DecodeAllocation, CpuDecodeStepsAllocateNothing) {
  for (const char* method : {"softmax", "sparsemax", "entmax15", "entmax43", "entmax:1.7", "relumax", "norm_relu",
                             "top3_softmax", "top3_uniform"}) {
    testing::RandomModelSpec spec;
    spec.hp.vocab_size = 50;
    spec.hp.n_embd = 32;
    spec.hp.n_head = 4;
    spec.hp.n_layer = 2;
    spec.hp.block_size = 64;
    spec.hp.pmem_size = 16;
    spec.hp.method = AttentionMethod::parse(method).value();
    ConvertedModel m = testing::make_random_model(spec);
    testing::TempDir dir("alloc");
    ASSERT_TRUE(write_model_gguf(m, dir.file("m.gguf")).ok());
    auto model = Model::load(dir.file("m.gguf"), {});
    ASSERT_TRUE(model.ok());
    auto s = Session::create(**model, {});
    ASSERT_TRUE(s.ok());
    Sampler greedy({});
    ASSERT_TRUE((*s)->prefill(std::vector<int32_t>{1, 2, 3}).ok());
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 40; ++i) {
      const int32_t tok = greedy.sample((*s)->logits());
      if (!(*s)->decode(tok).ok()) break;
    }
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0) << method;
  }
}

}  // namespace
}  // namespace tessera
