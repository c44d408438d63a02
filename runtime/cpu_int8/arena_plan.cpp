// Greedy arena planner (see arena_plan.h).
#include "cpu_int8/arena_plan.h"

namespace tessera::int8 {

namespace {

constexpr uint64_t kMaxOffset = uint64_t(1) << 62;

uint64_t align_up(uint64_t n) { return (n + kArenaAlignment - 1) & ~uint64_t(kArenaAlignment - 1); }

}  // namespace

uint64_t plan_arena(ArenaRegion* regions, int count) {
  if (count < 0 || count > kMaxArenaRegions) return 0;
  for (int i = 0; i < count; ++i)
    if (regions[i].bytes >= kMaxOffset) return 0;
  // Order: decreasing size, stable (insertion sort of indices; count is small).
  int order[kMaxArenaRegions];
  for (int i = 0; i < count; ++i) {
    int at = i;
    while (at > 0 && regions[order[at - 1]].bytes < regions[i].bytes) {
      order[at] = order[at - 1];
      --at;
    }
    order[at] = i;
  }
  uint64_t total = 0;
  for (int k = 0; k < count; ++k) {
    ArenaRegion& r = regions[order[k]];
    r.offset = 0;
    if (r.bytes == 0) continue;
    // First fit: move past every placed, simultaneously live region it would overlap, until none does.
    // Each move lands on the end of a placed region, so this ends after at most k moves.
    uint64_t at = 0;
    for (bool moved = true; moved;) {
      moved = false;
      for (int p = 0; p < k; ++p) {
        const ArenaRegion& q = regions[order[p]];
        if (q.bytes == 0 || (q.live_steps & r.live_steps) == 0) continue;
        if (at < q.offset + q.bytes && q.offset < at + r.bytes) {
          at = align_up(q.offset + q.bytes);
          moved = true;
        }
      }
    }
    if (at + r.bytes >= kMaxOffset) return 0;
    r.offset = at;
    if (align_up(at + r.bytes) > total) total = align_up(at + r.bytes);
  }
  return total;
}

}  // namespace tessera::int8
