// Contextual (in-context associative) memory on the float CPU runtime: one token at a time.
// State per layer: the leaky-average key state (O(1)), the previous value projection (the
// one-step value lag), and the caches of unit keys k̂_0..k̂_t and finished values v_0..v_{t-1}.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/float_weights.h"
#include "cpu/thread_pool.h"
#include "ops/attention_transform.h"

namespace tessera::cpu {

struct ContextMemoryState {
  std::vector<double> key_state;       // [C]
  std::vector<float> prev_value_proj;  // [C] W_v h_{t-1}
  std::vector<float> keys;             // [H][capacity][d] unit keys
  std::vector<float> values;           // [H][capacity][d] finished values (scaled)
  void init(int64_t n_embd, int64_t capacity);
  void reset();
};

// Per-thread scratch for one head's attention row (sized once for the capacity).
struct HeadScratch {
  std::vector<float> scores, probs, transform;
  std::vector<double> cos, mix;
};

// Per-sequence scratch shared by all layers.
struct ContextMemoryScratch {
  std::vector<float> u, w, o;
  std::vector<HeadScratch> heads;  // one per thread
  void init(const HParams& hp, int64_t capacity, int threads);
};

class ContextMemory {
 public:
  ContextMemory(const FloatWeights& weights, int64_t layer);
  // Token at position t with normalised input h (C floats) -> out (C floats, before the residual add).
  void step(ThreadPool& pool, ContextMemoryState& st, ContextMemoryScratch& sc, int64_t t, int64_t capacity,
            const float* h, float* out) const;

 private:
  const HParams& hp_;
  const FloatLayer& w_;
  const LayerWeights& lw_;
  ops::RowTransform transform_;
};

}  // namespace tessera::cpu
