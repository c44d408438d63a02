// What a forward pass reports to the quantizer: the activations of every site the int8 runtime quantizes, the
// residual stream, the final LayerNorm output and the logits. The batched float32 forward
// (quant/batched_forward.h) reports them for calibration and the precision search; the tests' float64 reference
// forward (tests/support/reference_forward.h) reports the same sites.
#pragma once

#include <cstdint>

#include "cpu_int8/int8_format.h"

namespace tessera::quant {

// Activation sites the int8 runtime quantizes (per layer): the int8 model description's.
using Site = int8::LayerSite;
inline constexpr int kSiteCount = int8::kLayerSiteCount;

// Receives the activations of every site (per layer), the residual stream after every update and the final
// LayerNorm output and logits, one position's row per call. layer_site and final_norm may change the values
// they get (the precision search, quant/precision.h, rounds them as the integer runtime would); the forward
// continues with what they leave.
class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;
  virtual void layer_site(int64_t layer, Site site, double* v, int64_t n) = 0;
  virtual void residual(const double* v, int64_t n) = 0;
  virtual void final_norm(double* v, int64_t n) = 0;
  virtual void logits(const double* v, int64_t n) = 0;
};

}  // namespace tessera::quant
