// Quantizing a whole model (see quantize_model.h).
#include "quant/quantize_model.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <sys/resource.h>

#include "core/dtype.h"
#include "quant/batched_forward.h"

namespace tessera::quant {

const char* quant_mode_name(QuantMode m) {
  switch (m) {
    case QuantMode::kInt8: return "int8";
    case QuantMode::kWeightsOnly: return "weights-only";
    case QuantMode::kF16: return "f16";
  }
  return "?";
}

const Tensor* find_in(const std::vector<Tensor>& tensors, const std::string& name) {
  for (const Tensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

template <class T>
Tensor owned(const std::string& name, DType dtype, std::vector<int64_t> shape, const std::vector<T>& v) {
  std::vector<std::byte> bytes(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return make_owned_tensor(name, dtype, std::move(shape), std::move(bytes));
}

Tensor f32(const std::string& name, std::vector<int64_t> shape, const std::vector<double>& v) {
  std::vector<float> f(v.begin(), v.end());
  return owned(name, DType::kF32, std::move(shape), f);
}

class Emitter {
 public:
  Emitter(QuantMode mode, const PrecisionPlan& precision, QuantizedModel& out)
      : mode_(mode), precision_(precision), out_(out) {}

  // A matrix-like tensor of `rows` output channels: int8 (int16 when the precision plan widens it)
  // + scale, or F16, plus its bias (F32). `name` without a ".weight" suffix names the tensor itself.
  void matrix(const std::string& name, const std::vector<float>& w, std::vector<int64_t> shape, int64_t rows,
              const std::vector<double>& bias = {}) {
    const int64_t cols = int64_t(w.size()) / rows;
    if (mode_ == QuantMode::kInt8 && precision_.is_wide(name)) {
      QuantizedRows16 q = quantize_rows16(w.data(), rows, cols);
      out_.report.tensors.push_back(measure_int16(name, w.data(), q, rows, cols));
      out_.report.tensors.back().precision = "int16";
      std::vector<int64_t> scale_shape(shape.begin(), shape.end() - 1);
      out_.tensors.push_back(owned(name, DType::kI16, std::move(shape), q.q));
      out_.tensors.push_back(owned(name + ".scale", DType::kF32, std::move(scale_shape), q.scale));
    } else if (mode_ == QuantMode::kF16) {
      std::vector<uint16_t> h(w.size());
      for (size_t i = 0; i < w.size(); ++i) h[i] = float_to_half(w[i]);
      out_.report.tensors.push_back(measure_f16(name, w.data(), h));
      out_.report.tensors.back().precision = "f16";
      out_.tensors.push_back(owned(name, DType::kF16, shape, h));
    } else {
      QuantizedRows q = quantize_rows(w.data(), rows, cols);
      out_.report.tensors.push_back(measure_int8(name, w.data(), q, rows, cols));
      std::vector<int64_t> scale_shape(shape.begin(), shape.end() - 1);
      out_.tensors.push_back(owned(name, DType::kI8, std::move(shape), q.q));
      out_.tensors.push_back(owned(name + ".scale", DType::kF32, std::move(scale_shape), q.scale));
    }
    if (!bias.empty()) {
      const std::string bias_name = name.substr(0, name.size() - std::strlen("weight")) + "bias";
      out_.tensors.push_back(f32(bias_name, {rows}, bias));
    }
  }
  void vec(const std::string& name, const std::vector<double>& v) {
    if (!v.empty()) out_.tensors.push_back(f32(name, {int64_t(v.size())}, v));
  }

 private:
  QuantMode mode_;
  const PrecisionPlan& precision_;
  QuantizedModel& out_;
};

// int32 sites: the calibrated max maps to 2^22, leaving 2^9 of headroom before saturation.
double int32_scale(double max_abs) { return (max_abs > 0 ? max_abs : 1.0) / double(1 << 22); }

Tensor i32(const std::string& name, const std::vector<int32_t>& v) {
  return owned(name, DType::kI32, {int64_t(v.size())}, v);
}

}  // namespace

std::string QuantizeReport::text() const {
  std::string s = "tensor                                      elements   SQNR dB    max |err|\n";
  char line[256];
  for (const TensorReport& t : tensors) {
    std::snprintf(line, sizeof line, "%-40s %12lld %9.2f %12.4g\n", t.name.c_str(), (long long)t.numel, t.sqnr_db,
                  t.max_abs_error);
    s += line;
  }
  std::snprintf(line, sizeof line, "overall SQNR %.2f dB over %zu tensors", overall_sqnr_db, tensors.size());
  s += line;
  if (calibration_tokens > 0) s += "; calibrated on " + std::to_string(calibration_tokens) + " tokens";
  s += "\n";
  if (calibration_tokens > 0) s += precision.text();
  return s;
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

namespace {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";  // the SQNR of an exactly representable tensor
  char b[64];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

}  // namespace

std::string QuantizeReport::json() const {
  std::string s = "{\n  \"tensors\": [";
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorReport& t = tensors[i];
    s += std::string(i ? "," : "") + "\n    {\"name\": \"" + t.name + "\", \"precision\": \"" + t.precision +
         "\", \"elements\": " + std::to_string(t.numel) + ", \"sqnr_db\": " + json_number(t.sqnr_db) +
         ", \"max_abs_error\": " + json_number(t.max_abs_error) + "}";
  }
  s += "\n  ],\n  \"overall_sqnr_db\": " + json_number(overall_sqnr_db) + ",\n  \"activations\": [";
  for (size_t i = 0; i < activations.size(); ++i) {
    const ActivationReport& a = activations[i];
    s += std::string(i ? "," : "") + "\n    {\"name\": \"" + a.name + "\", \"bits\": " + std::to_string(a.bits) +
         ", \"clip\": " + json_number(a.clip) + ", \"scale\": " + json_number(a.scale) +
         ", \"clipped_fraction\": " + json_number(a.clipped_fraction) + "}";
  }
  s += "\n  ],\n  \"calibration_tokens\": " + std::to_string(calibration_tokens);
  if (precision.positions > 0) {
    s += ",\n  \"agreement\": {\"positions\": " + std::to_string(precision.positions) +
         ", \"all_int8\": " + std::to_string(precision.agree_int8) +
         ", \"chosen\": " + std::to_string(precision.agree_chosen) +
         ", \"chosen_percent\": " + json_number(100.0 * double(precision.agree_chosen) / double(precision.positions)) +
         "}";
  }
  for (const auto* phases : {&phase_seconds, &phase_cpu_seconds}) {
    s += std::string(",\n  \"") + (phases == &phase_seconds ? "phase_seconds" : "phase_cpu_seconds") + "\": {";
    for (size_t i = 0; i < phases->size(); ++i)
      s += std::string(i ? ", " : "") + "\"" + (*phases)[i].first + "\": " + json_number((*phases)[i].second);
    s += "}";
  }
  s += ",\n  \"precision_mode\": \"" + std::string(precision_mode_name(precision.mode)) + "\"";
  s += ",\n  \"sensitivity\": [";
  for (size_t i = 0; i < precision.rows.size(); ++i) {
    const SensitivityRow& r = precision.rows[i];
    s += std::string(i ? "," : "") + "\n    {\"name\": \"" + r.name + "\", \"agree\": " + std::to_string(r.agree) +
         ", \"rel_logit_error\": " + json_number(r.rel_error) + ", \"bits\": " + (r.wide ? "16" : "8") + "}";
  }
  s += "\n  ]\n}\n";
  return s;
}

Result<QuantizedModel> quantize_model(const FloatModel& model, const QuantizeOptions& options) {
  return quantize_model(FloatModel(model), options);
}

Result<QuantizedModel> quantize_model(FloatModel&& model, const QuantizeOptions& options) {
  QuantizedModel out;
  auto phase_start = std::chrono::steady_clock::now();
  double phase_cpu = process_cpu_seconds();
  auto phase_done = [&](const char* name) {
    const auto now = std::chrono::steady_clock::now();
    const double cpu = process_cpu_seconds();
    out.report.phase_seconds.push_back({name, std::chrono::duration<double>(now - phase_start).count()});
    out.report.phase_cpu_seconds.push_back({name, cpu - phase_cpu});
    phase_start = now;
    phase_cpu = cpu;
  };
  if (options.value_cache_bits != 16 && (options.mode != QuantMode::kInt8 || options.value_cache_bits != 8))
    return invalid_argument("value cache of " + std::to_string(options.value_cache_bits) +
                            " bits: expected 16, or 8 with --int8");
  FloatModel owned = std::move(model);
  if (options.mode != QuantMode::kF16) {
    auto f = fold(std::move(owned));
    if (!f.ok()) return f.status();
    owned = std::move(*f);
  }
  const FloatModel* m = &owned;
  out.hp = m->hp;
  const HParams& hp = m->hp;
  const int64_t V = hp.vocab_size, C = hp.n_embd, H = hp.n_head, d = hp.head_dim();
  ActivationRanges ranges;
  PrecisionPlan precision;
  if (options.mode == QuantMode::kInt8) {
    BatchedForward engine(*m, options.threads);
    SearchReference reference;
    const int64_t positions = search_positions(options.precision, engine.macs_per_token(), V);
    auto calibration_progress = [&options](int64_t done, int64_t total) {
      if (options.progress) options.progress("calibrating", done, total);
    };
    auto r = calibrate(engine, options.calibration_sequences, options.calibration, calibration_progress, positions,
                       &reference);
    if (!r.ok()) return r.status();
    ranges = std::move(*r);
    out.report.calibration_tokens = ranges.tokens;
    phase_done("calibration");
    auto search_progress = [&options](int64_t done, int64_t total) {
      if (options.progress) options.progress("searching", done, total);
    };
    auto p = choose_precision(engine, ranges, reference, options.precision, search_progress);
    if (!p.ok()) return p.status();
    precision = std::move(*p);
    out.report.precision = precision.report;
    phase_done("search");
  }
  // An int8 activation site's scale: clip/127, or clip/32512 when the plan makes it int16.
  auto act = [&precision](double clip, const std::string& site) {
    return activation_scale(clip, precision.is_wide(site));
  };
  auto bits = [&precision](const std::string& site) { return precision.is_wide(site) ? 16 : 8; };
  namespace tn = tensor_names;  // the canonical names (model/hparams.h)
  Emitter e(options.mode, precision, out);
  e.matrix(tn::kTokenEmbd, m->embd.w, {V, C}, V);
  if (options.mode == QuantMode::kF16) {
    e.vec(tn::kOutputNorm, m->out_w);
    e.vec("output_norm.bias", m->out_b);
    if (!hp.weight_tying) e.matrix(tn::kOutput, m->output.w, {V, C}, V, m->output.b);
  } else {
    e.matrix(tn::kOutput, m->output.w, {V, C}, V, m->output.b);
  }
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const FloatLayer& L = m->layers[size_t(l)];
    auto b = [&](const char* s) { return block_name(l, s); };
    e.vec(b(tn::kAttnNorm), L.ln1_w);
    e.vec(b("attn_norm.bias"), L.ln1_b);
    e.matrix(b(tn::kAttnK), L.k.w, {C, C}, C, L.k.b);
    e.matrix(b(tn::kAttnV), L.v.w, {C, C}, C, L.v.b);
    e.matrix(b(tn::kAttnOut), L.o.w, {C, C}, C, L.o.b);
    e.vec(b(tn::kAttnDecay), L.key_decay);
    e.vec(b(tn::kAttnKeyScale), L.key_scale);
    e.vec(b(tn::kAttnValueScale), L.value_scale);
    e.vec(b(tn::kAttnValueMix), L.value_mix);
    if (!hp.attn_only) {
      e.vec(b(tn::kPmemNorm), L.ln2_w);
      e.vec(b("pmem_norm.bias"), L.ln2_b);
      e.matrix(b(tn::kPmemK), L.pk.w, {C, C}, C, L.pk.b);
      e.matrix(b(tn::kPmemOut), L.po.w, {C, C}, C, L.po.b);
      e.vec(b(tn::kPmemDecay), L.pmem_decay);
      e.vec(b(tn::kPmemQueryScale), L.pmem_query_scale);
      e.vec(b(tn::kPmemValueScale), L.pmem_value_scale);
      const int64_t P = hp.pmem_count, N = hp.pmem_size;
      e.matrix(b(tn::kPmemMemK), L.mem_k, {P, H, N, d}, P * H * N);
      e.matrix(b(tn::kPmemMemV), L.mem_v, {P, H, N, d}, P * H * N);
    }
    if (options.progress) options.progress("quantizing", l + 1, hp.n_layer);
    if (options.mode == QuantMode::kInt8) {
      const auto& r = ranges.layer[size_t(l)];
      // The model description's order; the reserved last entry is scale 1, bits 0.
      std::vector<double> scales(int8::kLayerScaleCount, 1.0);
      std::vector<int32_t> site_bits(int8::kLayerScaleCount, 0);
      for (Site site : int8::kLayerSites) {
        const size_t k = size_t(site);
        const std::string name = activation_site_name(l, site);
        const bool operand = int8::is_operand_site(site);  // int8 or int16; the others are int32
        scales[k] = operand ? act(r[k], name) : int32_scale(r[k]);
        site_bits[k] = operand ? bits(name) : 32;
        if (!hp.attn_only || !int8::is_pmem_site(site))
          out.report.activations.push_back({name, r[k], scales[k], ranges.clipped[size_t(l)][k], site_bits[k]});
      }
      out.tensors.push_back(f32(int8::layer_activation_scales(l), {int8::kLayerScaleCount}, scales));
      out.tensors.push_back(i32(int8::layer_activation_bits(l), site_bits));
    }
  }
  if (options.mode == QuantMode::kInt8) {
    std::vector<double> scales(int8::kModelSiteCount);
    scales[size_t(int8::ModelSite::kResidual)] = int32_scale(ranges.residual);
    scales[size_t(int8::ModelSite::kFinalNorm)] = act(ranges.final_norm, kFinalNormSite);
    scales[size_t(int8::ModelSite::kLogits)] = int32_scale(ranges.logits);
    std::vector<int32_t> site_bits(int8::kModelSiteCount, 32);
    site_bits[size_t(int8::ModelSite::kFinalNorm)] = bits(kFinalNormSite);
    out.tensors.push_back(f32(int8::kActivationScales, {int8::kModelSiteCount}, scales));
    out.tensors.push_back(i32(int8::kActivationBits, site_bits));
    // Only when not the default, so that files without the option keep their bytes.
    if (options.value_cache_bits == 8) out.tensors.push_back(i32(int8::kValueCacheBits, {8}));
    out.report.activations.push_back({"act.residual", ranges.residual, int32_scale(ranges.residual), 0, 32});
    out.report.activations.push_back({kFinalNormSite, ranges.final_norm, act(ranges.final_norm, kFinalNormSite),
                                      ranges.final_norm_clipped, bits(kFinalNormSite)});
    out.report.activations.push_back({"act.logits", ranges.logits, int32_scale(ranges.logits), 0, 32});
  }
  phase_done("quantization");
  double signal = 0, noise = 0;
  for (const TensorReport& t : out.report.tensors) {
    signal += t.signal;
    noise += t.noise;
  }
  out.report.overall_sqnr_db = noise > 0 ? 10 * std::log10(signal / noise) : INFINITY;
  out.string_metadata.push_back({"memory-mosaics.quantization.mode", quant_mode_name(options.mode)});
  if (options.mode == QuantMode::kInt8) {
    out.string_metadata.push_back({"memory-mosaics.quantization.calibration",
                                   options.calibration.method == CalibrationMethod::kMinMax
                                       ? std::string("minmax")
                                       : "percentile:" + std::to_string(options.calibration.percentile)});
    out.string_metadata.push_back({"memory-mosaics.quantization.calibration_source", options.calibration_source});
    out.string_metadata.push_back(
        {"memory-mosaics.quantization.precision", precision_mode_name(options.precision.mode)});
    if (options.value_cache_bits == 8)
      out.string_metadata.push_back({"memory-mosaics.quantization.value_cache", "int8"});
  }
  return out;
}

}  // namespace tessera::quant
