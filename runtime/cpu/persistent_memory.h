// Persistent memory on the float CPU runtime: a leaky-averaged unit key, scaled by β'², queries
// N learned slots per head with a softmax (always softmax, whatever the attention method).
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/float_weights.h"
#include "cpu/thread_pool.h"

namespace tessera::cpu {

struct PersistentMemoryScratch {
  std::vector<float> u, r;
  std::vector<std::vector<double>> scores, acc;  // one per thread
  void init(const HParams& hp, int threads);
};

class PersistentMemory {
 public:
  PersistentMemory(const FloatWeights& weights, int64_t layer);
  // key_state: this layer's [C] leaky state (double). h: normalised input. out: C floats.
  void step(ThreadPool& pool, double* key_state, PersistentMemoryScratch& sc, const float* h, float* out) const;

 private:
  const HParams& hp_;
  const FloatLayer& w_;
  const LayerWeights& lw_;
};

}  // namespace tessera::cpu
