// A float64 cached decoder of a FloatModel (folded or not), written from the equations in
// docs/model.md. The quantizer uses it to calibrate activation ranges (it records every site
// the int8 runtime quantizes) and the tests use it as the float reference of the int8 runtime.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu_int8/int8_format.h"
#include "quant/float_model.h"

namespace tessera::quant {

// Activation sites the int8 runtime quantizes (per layer): the int8 model description's.
using Site = int8::LayerSite;
inline constexpr int kSiteCount = int8::kLayerSiteCount;

// Receives the activations of every site (per layer), the residual stream after every update and
// the final LayerNorm output and logits. layer_site and final_norm may change the values they get
// (the precision search, quant/precision.h, rounds them as the integer runtime would); the decoder
// continues with what they leave.
class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;
  virtual void layer_site(int64_t layer, Site site, double* v, int64_t n) = 0;
  virtual void residual(const double* v, int64_t n) = 0;
  virtual void final_norm(double* v, int64_t n) = 0;
  virtual void logits(const double* v, int64_t n) = 0;
};

class FloatDecoder {
 public:
  explicit FloatDecoder(const FloatModel& m);
  void reset();
  // One token; returns the V next-token logits.
  const std::vector<double>& step(int32_t token, ActivationObserver* observer = nullptr);
  int64_t position() const { return t_; }

 private:
  void layernorm(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b,
                 std::vector<double>& out) const;
  void matvec(const FloatMatrix& m, const std::vector<double>& x, std::vector<double>& y) const;
  void unit_heads(std::vector<double>& v) const;

  const FloatModel& m_;
  int64_t t_ = 0;
  struct LayerState {
    std::vector<double> key_state, pmem_state, w_prev;
    std::vector<std::vector<double>> keys, values;  // unit keys k̂_j; finished values v_j
  };
  std::vector<LayerState> state_;
  std::vector<double> logits_;
};

}  // namespace tessera::quant
