// The arena planner (cpu_int8/arena_plan.h) and the int8 state laid out with it (cpu_int8/int8_state.h).
#include <gtest/gtest.h>

#include <random>

#include "cpu_int8/arena_plan.h"
#include "cpu_int8/int8_forward.h"
#include "int8_run.h"
#include "support/random_model.h"

namespace tessera {
namespace {

using int8::ArenaRegion;

// The planner's contract, checked directly: aligned offsets, no overlap between simultaneously live regions,
// everything inside the returned size, and the size no larger than placing every region on its own bytes.
void expect_valid(const std::vector<ArenaRegion>& r, uint64_t total) {
  uint64_t unshared = 0, end = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    unshared += (r[i].bytes + 63) / 64 * 64;
    if (r[i].bytes == 0) continue;
    EXPECT_EQ(r[i].offset % int8::kArenaAlignment, 0u) << i;
    end = std::max(end, r[i].offset + r[i].bytes);
    for (size_t j = 0; j < i; ++j) {
      if (r[j].bytes == 0 || (r[i].live_steps & r[j].live_steps) == 0) continue;
      const bool apart = r[i].offset + r[i].bytes <= r[j].offset || r[j].offset + r[j].bytes <= r[i].offset;
      EXPECT_TRUE(apart) << "regions " << i << " and " << j << " are live together and overlap";
    }
  }
  EXPECT_GE(total, end);
  EXPECT_LE(total, unshared);
}

TEST(ArenaPlan, RandomRegionsNeverOverlapWhileLive) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<ArenaRegion> r(size_t(1 + rng() % int8::kMaxArenaRegions));
    for (ArenaRegion& x : r) {
      x.bytes = rng() % 4 == 0 ? 0 : 1 + rng() % 5000;
      x.live_steps = rng() % 8 == 0 ? ~0u : (1u << (rng() % 12)) | (1u << (rng() % 12));
    }
    r[0].bytes = 1 + rng() % 100;  // at least one region to place (all empty: an empty arena, size 0)
    const uint64_t total = int8::plan_arena(r.data(), int(r.size()));
    ASSERT_GT(total, 0u);
    expect_valid(r, total);
  }
}

TEST(ArenaPlan, RegionsOfDifferentStepsShareBytes) {
  std::vector<ArenaRegion> r = {{1000, 1u << 0, 7}, {3000, 1u << 1, 7}, {100, ~0u, 7}, {64, 1u << 0, 7}};
  const uint64_t total = int8::plan_arena(r.data(), int(r.size()));
  // Largest first: 3000 at 0 (step 1); 1000 at 0 too (step 0); the persistent 100 after both (3008 → 3008);
  // the 64 of step 0 after the 1000 (1024).
  EXPECT_EQ(r[1].offset, 0u);
  EXPECT_EQ(r[0].offset, 0u);
  EXPECT_EQ(r[2].offset, 3008u);
  EXPECT_EQ(r[3].offset, 1024u);
  EXPECT_EQ(total, 3136u);
}

TEST(ArenaPlan, RefusesWhatCannotExist) {
  std::vector<ArenaRegion> r(2, ArenaRegion{uint64_t(1) << 61, ~0u, 0});
  EXPECT_EQ(int8::plan_arena(r.data(), 2), 0u);  // 2^61 + 2^61 reaches 2^62
  EXPECT_EQ(int8::plan_arena(r.data(), int8::kMaxArenaRegions + 1), 0u);
  EXPECT_EQ(int8::plan_arena(r.data(), -1), 0u);
  EXPECT_EQ(int8::plan_arena(r.data(), 0), 0u);  // nothing to place: an empty arena
}

TEST(Int8State, SharingSavesScratchAndHugeCapacitiesDoNotWrap) {
  quant::FloatModel fm = testing::random_float_model(101, 32, 4, 2, 40, 3, false, false);
  testing_int8::Int8Run q = testing_int8::quantize_and_plan(fm);
  ASSERT_TRUE(q.plan);
  int8::Int8Model m = q.plan->model;
  for (int64_t cap : {1, 17, 64, 1000}) {
    const uint64_t shared = int8::int8_state_bytes(m, cap), unshared = int8::int8_state_bytes_unshared(m, cap);
    EXPECT_GT(shared, 0u);
    EXPECT_LT(shared, unshared) << cap;
    // The caches alone (int16 keys and values, L·cap·C·2 each) are a lower bound.
    EXPECT_GE(shared, uint64_t(2 * m.n_layer * cap * m.n_embd * 2));
    m.value_cache_int8 = true;
    EXPECT_LT(int8::int8_state_bytes(m, cap), shared);  // the Q7 values take half the value cache
    m.value_cache_int8 = false;
  }
  EXPECT_EQ(int8::int8_state_bytes(m, int64_t(1) << 60), 0u);
  EXPECT_EQ(int8::int8_state_bytes(m, -1), 0u);
}

}  // namespace
}  // namespace tessera
