// A small arena planner (the idea of TensorFlow Lite Micro's greedy memory planner): each region has a
// size and the steps of the forward pass during which it holds data; regions whose steps do not
// intersect may share bytes. Freestanding (no heap, no library), so the microcontroller build uses it.
#pragma once

#include <stdint.h>  // C header: the Cortex-M4 build has no C++ library

namespace tessera::int8 {

inline constexpr uint32_t kArenaAlignment = 64;  // every region starts on a 64-byte boundary
inline constexpr int kMaxArenaRegions = 32;

struct ArenaRegion {
  uint64_t bytes = 0;       // in; 0: the region is unused (offset 0)
  uint32_t live_steps = 0;  // in: bit s set = live during step s (a region live through the whole pass: all bits)
  uint64_t offset = 0;      // out: a multiple of kArenaAlignment
};

// Places `count` (≤ kMaxArenaRegions) regions: by decreasing size (ties: in the given order, so the result is
// deterministic), each at the lowest aligned offset where it overlaps no placed region whose live steps
// intersect its own. Returns the arena's size, or 0 when `count` is out of range or a size is so large
// that an offset would pass 2^62 (the caller treats 0 as "does not fit").
uint64_t plan_arena(ArenaRegion* regions, int count);

}  // namespace tessera::int8
