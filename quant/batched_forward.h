// A float32 forward pass of a folded model over a whole sequence at once: layer by layer, every
// projection a matrix product over all positions with the output rows split across a thread pool
// (each output computed by one thread in a fixed order, so results do not depend on the thread count).
// Calibration and the precision search run on it; the float64 FloatDecoder stays the exact reference
// in the tests. It reports the same activation sites as FloatDecoder (per site, in position order) and
// can fake-quantize weight tensors and restart from the residual stream cached at a layer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpu/thread_pool.h"
#include "quant/float_decoder.h"
#include "quant/float_model.h"

namespace tessera::quant {

// Bits of a weight tensor (canonical name, as precision_candidates()) in one run: 0 = float, 8 or 16.
using WeightBitsFn = std::function<int(const std::string&)>;

// Residual stream entering each layer, then the one entering the final LayerNorm: [layer][position × C].
using LayerInputs = std::vector<std::vector<float>>;

struct ForwardRun {
  ActivationObserver* observer = nullptr;
  const WeightBitsFn* weight_bits = nullptr;  // nullptr: every weight as float
  int64_t first_layer = 0;                    // > 0: start from (*start)[first_layer] (<= n_layer)
  const LayerInputs* start = nullptr;
  LayerInputs* keep = nullptr;  // when set: receives the residual entering every layer
};

class BatchedForward {
 public:
  // `folded` must outlive this object (weights are copied to float32; scalars are read from it).
  BatchedForward(const FloatModel& folded, int threads);
  ~BatchedForward();

  // One sequence from position 0; logits receives tokens.size() × vocab floats.
  void run(const std::vector<int32_t>& tokens, const ForwardRun& options, std::vector<float>& logits);

  const FloatModel& model() const { return m_; }
  // Multiply-adds of one token through the projections, the persistent memory and the output layer.
  int64_t macs_per_token() const;

 private:
  struct Weights;
  struct Layer;
  const float* weight(const std::string& name, const std::vector<float>& plain, const std::vector<double>& exact,
                      int64_t rows, const WeightBitsFn* bits, std::vector<float>& scratch) const;
  void project(const float* X, const float* W, const float* b, float* Y, int64_t T, int64_t rows, int64_t cols);
  void report_site(ActivationObserver* obs, int64_t layer, Site site, float* rows, int64_t T, int64_t n);

  const FloatModel& m_;
  cpu::ThreadPool pool_;
  std::unique_ptr<Weights> w_;
};

}  // namespace tessera::quant
