// A float32 forward pass of a folded model over a whole sequence at once: layer by layer, every
// projection a matrix product over all positions with the output rows split across a thread pool
// (each output computed by one thread in a fixed order, so results do not depend on the thread count).
// Calibration and the precision search run on it; the tests' float64 reference forward
// (tests/support/reference_forward.h) is its exact reference. It reports the activation sites of
// quant/activation_observer.h (per site, in position order) and
// can fake-quantize weight tensors and restart from values cached at a point inside any layer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpu/thread_pool.h"
#include "quant/activation_observer.h"
#include "quant/float_model.h"

namespace tessera::quant {

// Bits of a weight tensor (canonical name, as precision_candidates()) in one run: 0 = float, 8 or 16.
using WeightBitsFn = std::function<int(const std::string&)>;

// Points a run can restart from, per layer: the residual entering the layer; the attention output
// before its activation site; the residual entering the persistent memory; the persistent-memory
// output before its site. A candidate of the precision search restarts at the first point it changes.
enum class Stage { kLayerInput = 0, kAttentionOutput, kPmemInput, kPmemOutput, kCount };
inline constexpr int64_t kStagesPerLayer = int64_t(Stage::kCount);
// Index of a restart point; restart_point(n_layer, kLayerInput) is the residual entering the final LayerNorm.
inline int64_t restart_point(int64_t layer, Stage stage) { return layer * kStagesPerLayer + int64_t(stage); }

// Values at every restart point, [point][position × C] (the residual-only points of an attention-only
// model's persistent memory stay empty).
using LayerInputs = std::vector<std::vector<float>>;

struct ForwardRun {
  ActivationObserver* observer = nullptr;
  const WeightBitsFn* weight_bits = nullptr;  // nullptr: every weight as float
  int64_t first_point = 0;                    // > 0: start from the cached (*start) at this restart point
  const LayerInputs* start = nullptr;
  LayerInputs* keep = nullptr;  // when set: receives the values at every restart point
};

class BatchedForward {
 public:
  // `folded` must outlive this object (its float32 matrices are used in place).
  BatchedForward(const FloatModel& folded, int threads);
  ~BatchedForward();

  // One sequence from position 0; logits receives tokens.size() × vocab floats. Each step is split
  // across the thread pool.
  void run(const std::vector<int32_t>& tokens, const ForwardRun& options, std::vector<float>& logits);

  // job(i, worker) for every i in [0, n), the workers in parallel, each i on one thread: inside a job,
  // run_on(worker, ...) runs a whole sequence single-threaded on that worker's scratch. For many short
  // sequences this beats splitting each small step (no hand-off per step). Results do not depend on
  // the thread count: each i is computed alone, and the caller combines them in i order.
  void for_each(int64_t n, const std::function<void(int64_t i, int worker)>& job);
  void run_on(int worker, const std::vector<int32_t>& tokens, const ForwardRun& options, std::vector<float>& logits);
  int threads() const { return pool_.threads(); }

  const FloatModel& model() const { return m_; }
  // Multiply-adds of one token through the projections, the persistent memory and the output layer.
  int64_t macs_per_token() const;

 private:
  struct Weights;
  struct Layer;
  struct Scratch;
  void run_with(Scratch& s, bool parallel, const std::vector<int32_t>& tokens, const ForwardRun& options,
                std::vector<float>& logits);
  template <class F>
  void split(bool parallel, int64_t n, F&& f);
  const float* weight(const std::string& name, const std::vector<float>& w, int64_t rows, const WeightBitsFn* bits,
                      std::vector<float>& scratch) const;
  void project(bool parallel, const float* X, const float* W, const float* b, float* Y, int64_t T, int64_t rows,
               int64_t cols);
  // The persistent memory of layer l: s.u (its key projection) → s.r (before pmem_output).
  void persistent_memory(Scratch& s, bool parallel, int64_t l, const WeightBitsFn* bits, int64_t T);
  static void report_site(Scratch& s, ActivationObserver* obs, int64_t layer, Site site, float* rows, int64_t T,
                          int64_t n);

  const FloatModel& m_;
  cpu::ThreadPool pool_;
  std::unique_ptr<Weights> w_;
  std::vector<std::unique_ptr<Scratch>> scratch_;  // one per worker
};

}  // namespace tessera::quant
