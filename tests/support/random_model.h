// Random canonical models (the converter's tensor names) for tests that need shapes and options the authors'
// fixtures lack: quant/random_model.h's builder, the one `tessera bench --random-model` uses. `reference_of`
// gives the same model to the float64 reference forward.
#pragma once

#include <cstdint>

#include "model/convert.h"
#include "quant/random_model.h"
#include "support/reference_forward.h"

namespace tessera::testing {

struct RandomModelSpec {
  HParams hp;
  bool untied = false;
  bool clamped_head = false;  // one head per module on the β clamp (β² = e¹⁰)
  bool f16 = false;
  uint64_t seed = 7;
};

inline ConvertedModel make_random_model(const RandomModelSpec& spec) {
  quant::RandomModelOptions options;
  options.seed = spec.seed;
  options.untied = spec.untied;
  options.clamped_head = spec.clamped_head;
  options.f16 = spec.f16;
  return quant::make_random_model(spec.hp, options);
}

inline RefModel reference_of(const ConvertedModel& m) {
  RefModel r;
  r.hp = m.hparams;
  for (const Tensor& t : m.tensors) r.t[t.name] = to_f64(t);
  return r;
}

}  // namespace tessera::testing
