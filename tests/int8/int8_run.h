// Shared by the int8 model tests: quantize a float model, build the integer plan from its validated view
// in memory, and run tokens through the integer core (dequantised logits per position).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu_int8/int8_forward.h"
#include "cpu_int8/int8_plan.h"
#include "quant/model_io.h"
#include "quant/quantize_model.h"
#include "support/random_model.h"

namespace tessera::testing_int8 {

inline std::vector<std::vector<int32_t>> sequences(int64_t V, int count, int length, uint64_t seed) {
  return quant::random_calibration_sequences(V, count, length, seed);
}

// A plan and the view it points into.
struct PlannedModel {
  std::shared_ptr<const ModelWeights> weights;
  std::unique_ptr<int8::Int8Plan> plan;
};

// The int8 plan of a quantized model held in memory, built from its validated view as a file's would be
// (`source` names the model in errors).
inline Result<PlannedModel> plan_in_memory(const quant::QuantizedModel& q, ops::int8::Isa isa,
                                           const std::string& source = "test") {
  PlannedModel p;
  TESSERA_ASSIGN_OR_RETURN(p.weights, quant::quantized_model_view(q, source));
  TESSERA_ASSIGN_OR_RETURN(p.plan, int8::build_int8_plan(*p.weights, ops::int8::int8_kernels_for(isa)));
  return p;
}

struct Int8Run {
  quant::QuantizedModel q;
  std::shared_ptr<const ModelWeights> weights;
  std::unique_ptr<int8::Int8Plan> plan;
};

inline Int8Run quantize_and_plan(const quant::FloatModel& m, quant::CalibrationOptions calib = {},
                                 quant::PrecisionOptions precision = {},
                                 ops::int8::Isa isa = ops::int8::fastest_isa(ops::int8::host_cpu_features())) {
  quant::QuantizeOptions opt;
  opt.mode = quant::QuantMode::kInt8;
  opt.calibration = calib;
  opt.precision = precision;
  opt.calibration_sequences = sequences(m.hp.vocab_size, 8, 32, 99);
  auto q = quant::quantize_model(m, opt);
  EXPECT_TRUE(q.ok()) << q.status().to_string();
  Int8Run run{std::move(*q), nullptr, nullptr};
  auto planned = plan_in_memory(run.q, isa);
  EXPECT_TRUE(planned.ok()) << planned.status().to_string();
  if (planned.ok()) {
    run.weights = std::move(planned->weights);
    run.plan = std::move(planned->plan);
  }
  return run;
}

// Runs tokens through the int8 core; returns dequantised logits per position.
inline std::vector<std::vector<double>> run_int8(const int8::Int8Plan& plan, const std::vector<int32_t>& tokens) {
  const int8::Int8Model& m = plan.model;
  std::vector<std::byte> arena(int8::int8_state_bytes(m, int64_t(tokens.size())) + 64);
  void* base = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(arena.data()) + 63) & ~uintptr_t(63));
  int8::Int8State s;
  int8::int8_state_bind(m, int64_t(tokens.size()), base, &s);
  std::vector<int32_t> logits(static_cast<size_t>(m.vocab_size));
  std::vector<std::vector<double>> out;
  for (int32_t tok : tokens) {
    int8::int8_forward_token(m, &s, tok, logits.data());
    std::vector<double> row;
    for (int32_t v : logits) row.push_back(v * plan.logit_scale);
    out.push_back(row);
  }
  return out;
}

inline size_t argmax(const std::vector<double>& v) { return size_t(std::max_element(v.begin(), v.end()) - v.begin()); }

// Top-1 agreement and the worst max|Δlogit| / max|logit| of the integer runtime against the float64 reference.
struct Agreement {
  int agree = 0, total = 0;
  double worst_rel = 0;
};
inline void add_agreement(Agreement& a, const int8::Int8Plan& plan, const quant::FloatModel& m,
                          const std::vector<int32_t>& seq) {
  const auto ref = testing::reference_logits(testing::reference_of(m), seq);
  const auto got = run_int8(plan, seq);
  for (size_t t = 0; t < seq.size(); ++t) {
    const std::vector<double>& lr = ref[t];
    double err = 0, norm = 0;
    for (size_t v = 0; v < lr.size(); ++v) {
      err = std::max(err, std::fabs(got[t][v] - lr[v]));
      norm = std::max(norm, std::fabs(lr[v]));
    }
    a.worst_rel = std::max(a.worst_rel, err / norm);
    a.agree += argmax(got[t]) == argmax(lr);
    ++a.total;
  }
}

}  // namespace tessera::testing_int8
