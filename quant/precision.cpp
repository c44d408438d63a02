// Mixed-precision search (see precision.h). The simulation rounds exactly what the integer runtime
// rounds at the candidate points (weights on their stored grid, activation sites at their calibrated
// scales with saturation) and keeps everything else in float64: the remaining integer steps (Q15 unit
// vectors, Q16 scores, Q23 weights) are 2^-15 or finer and are measured on the real runtime instead
// (tools/bench/int8_agreement.py, tests/int8).
#include "quant/precision.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "quant/quantize_tensor.h"

namespace tessera::quant {

const char* precision_mode_name(PrecisionMode m) {
  switch (m) {
    case PrecisionMode::kInt8: return "int8";
    case PrecisionMode::kAuto: return "auto";
    case PrecisionMode::kInt16: return "int16";
  }
  return "?";
}

double activation_scale(double clip, bool wide) {
  return (clip > 0 ? clip : 1.0) / (wide ? double(kInt16WeightMax) : 127.0);
}

std::string activation_site_name(int64_t layer, Site site) {
  const char* s = site == Site::kH1 ? "h1" : site == Site::kO ? "o" : site == Site::kH2 ? "h2" : "r";
  return block_name(layer, std::string("act.") + s);
}

std::vector<std::string> precision_candidates(const HParams& hp) {
  std::vector<std::string> c = {"token_embd.weight", "output.weight", kFinalNormSite};
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    for (const char* n : {"attn_k.weight", "attn_v.weight", "attn_output.weight"}) c.push_back(block_name(l, n));
    c.push_back(activation_site_name(l, Site::kH1));
    c.push_back(activation_site_name(l, Site::kO));
    if (hp.attn_only) continue;
    for (const char* n : {"pmem_k.weight", "pmem_output.weight", "pmem_mem_k", "pmem_mem_v"})
      c.push_back(block_name(l, n));
    c.push_back(activation_site_name(l, Site::kH2));
    c.push_back(activation_site_name(l, Site::kR));
  }
  return c;
}

namespace {

// Bits of each candidate in one simulated configuration: 0 = float64, 8 or 16.
using BitsFn = std::function<int(const std::string&)>;

void fake_quantize_activation(double* v, int64_t n, double clip, int bits) {
  const double s = activation_scale(clip, bits == 16), qmax = bits == 16 ? double(kInt16WeightMax) : 127.0;
  for (int64_t i = 0; i < n; ++i) v[i] = s * std::clamp(std::nearbyint(v[i] / s), -qmax, qmax);
}

class RoundingObserver : public ActivationObserver {
 public:
  RoundingObserver(const ActivationRanges& r, const BitsFn& bits, int64_t layers) : ranges_(r) {
    for (int64_t l = 0; l < layers; ++l)
      for (Site s : {Site::kH1, Site::kO, Site::kH2, Site::kR}) site_bits_[{l, int(s)}] = bits(activation_site_name(l, s));
    final_bits_ = bits(kFinalNormSite);
  }
  void layer_site(int64_t layer, Site site, double* v, int64_t n) override {
    auto it = site_bits_.find({layer, int(site)});
    if (it != site_bits_.end() && it->second)
      fake_quantize_activation(v, n, ranges_.layer[size_t(layer)][size_t(site)], it->second);
  }
  void residual(const double*, int64_t) override {}
  void final_norm(double* v, int64_t n) override {
    if (final_bits_) fake_quantize_activation(v, n, ranges_.final_norm, final_bits_);
  }
  void logits(const double*, int64_t) override {}

 private:
  const ActivationRanges& ranges_;
  std::map<std::pair<int64_t, int>, int> site_bits_;
  int final_bits_ = 0;
};

class Simulator {
 public:
  Simulator(const FloatModel& folded, const ActivationRanges& ranges, const std::vector<std::vector<int32_t>>& seqs,
            int64_t max_positions)
      : model_(folded), ranges_(ranges) {
    const int64_t V = folded.hp.vocab_size;
    // Reference logits are kept (float32) for the error figure: at most 2^24 of them.
    max_positions = std::max<int64_t>(1, std::min<int64_t>(max_positions, (int64_t(1) << 24) / V));
    for (const auto& s : seqs) {
      if (positions_ >= max_positions) break;
      std::vector<int32_t> part(s.begin(), s.begin() + long(std::min<int64_t>(int64_t(s.size()), max_positions - positions_)));
      positions_ += int64_t(part.size());
      seqs_.push_back(std::move(part));
    }
    FloatDecoder dec(folded);
    for (const auto& s : seqs_) {
      dec.reset();
      for (int32_t tok : s) {
        const std::vector<double>& l = dec.step(tok);
        ref_top1_.push_back(int32_t(std::max_element(l.begin(), l.end()) - l.begin()));
        for (double x : l) {
          ref_.push_back(float(x));
          ref_power_ += x * x;
        }
      }
    }
  }
  int64_t positions() const { return positions_; }

  struct Result {
    int64_t agree = 0;
    double rel_error = 0;
  };

  Result run(const BitsFn& bits) const {
    FloatModel m = model_;
    auto weights = [&](const std::string& name, std::vector<double>& w, int64_t rows) {
      if (const int b = bits(name)) fake_quantize_rows(w.data(), rows, int64_t(w.size()) / rows, b);
    };
    const HParams& hp = m.hp;
    weights("token_embd.weight", m.embd.w, hp.vocab_size);
    weights("output.weight", m.output.w, hp.vocab_size);
    for (int64_t l = 0; l < hp.n_layer; ++l) {
      FloatLayer& L = m.layers[size_t(l)];
      weights(block_name(l, "attn_k.weight"), L.k.w, L.k.rows);
      weights(block_name(l, "attn_v.weight"), L.v.w, L.v.rows);
      weights(block_name(l, "attn_output.weight"), L.o.w, L.o.rows);
      if (hp.attn_only) continue;
      weights(block_name(l, "pmem_k.weight"), L.pk.w, L.pk.rows);
      weights(block_name(l, "pmem_output.weight"), L.po.w, L.po.rows);
      const int64_t slots = hp.pmem_count * hp.n_head * hp.pmem_size;
      weights(block_name(l, "pmem_mem_k"), L.mem_k, slots);
      weights(block_name(l, "pmem_mem_v"), L.mem_v, slots);
    }
    RoundingObserver obs(ranges_, bits, hp.n_layer);
    FloatDecoder dec(m);
    Result r;
    double noise = 0;
    size_t at = 0, pos = 0;
    for (const auto& s : seqs_) {
      dec.reset();
      for (int32_t tok : s) {
        const std::vector<double>& l = dec.step(tok, &obs);
        r.agree += int32_t(std::max_element(l.begin(), l.end()) - l.begin()) == ref_top1_[pos++];
        for (double x : l) {
          const double e = x - double(ref_[at++]);
          noise += e * e;
        }
      }
    }
    r.rel_error = ref_power_ > 0 ? std::sqrt(noise / ref_power_) : 0.0;
    return r;
  }

 private:
  const FloatModel& model_;
  const ActivationRanges& ranges_;
  std::vector<std::vector<int32_t>> seqs_;
  int64_t positions_ = 0;
  std::vector<int32_t> ref_top1_;
  std::vector<float> ref_;
  double ref_power_ = 0;
};

}  // namespace

std::string PrecisionReport::text() const {
  std::string s = std::string("precision: ") + precision_mode_name(mode);
  char line[256];
  if (agree_int8 >= 0) {
    std::snprintf(line, sizeof line, "; simulated top-1 vs float64 on %lld calibration positions: all int8 %lld",
                  (long long)positions, (long long)agree_int8);
    s += line;
  }
  if (agree_chosen >= 0) {
    std::snprintf(line, sizeof line, ", chosen %lld", (long long)agree_chosen);
    s += line;
  }
  s += "\n";
  if (!rows.empty()) {
    s += "sensitivity (only this tensor quantized to 8 bits)    top-1   rel. logit err   bits\n";
    for (const SensitivityRow& r : rows) {
      std::snprintf(line, sizeof line, "%-48s %6lld/%lld %14.3g %6d\n", r.name.c_str(), (long long)r.agree,
                    (long long)positions, r.rel_error, r.wide ? 16 : 8);
      s += line;
    }
  }
  return s;
}

Result<PrecisionPlan> choose_precision(const FloatModel& folded, const ActivationRanges& ranges,
                                       const std::vector<std::vector<int32_t>>& sequences,
                                       const PrecisionOptions& options) {
  PrecisionPlan plan;
  plan.report.mode = options.mode;
  const std::vector<std::string> all = precision_candidates(folded.hp);
  for (const std::string& name : options.force_int16) {
    if (std::find(all.begin(), all.end(), name) == all.end()) {
      std::string known;
      for (const std::string& c : all) known += (known.empty() ? "" : ", ") + c;
      return invalid_argument("--int16: '" + name + "' is not a tensor or activation site of this model (expected one of: " +
                              known + ")");
    }
    plan.wide.insert(name);
  }
  if (options.mode == PrecisionMode::kInt8) return plan;
  if (options.mode == PrecisionMode::kInt16) {
    plan.wide.insert(all.begin(), all.end());
    return plan;
  }
  if (sequences.empty()) return invalid_argument("precision search: no calibration sequences");
  Simulator sim(folded, ranges, sequences, options.max_positions);
  const int64_t P = sim.positions();
  plan.report.positions = P;
  const int64_t needed = int64_t(std::ceil(options.target_agreement / 100.0 * double(P) - 1e-9));
  auto mixed = [&plan](const std::string& n) { return plan.is_wide(n) ? 16 : 8; };
  Simulator::Result r = sim.run(mixed);
  plan.report.agree_int8 = plan.report.agree_chosen = r.agree;
  if (r.agree >= needed) return plan;
  for (const std::string& c : all) {
    const Simulator::Result one = sim.run([&c](const std::string& n) { return n == c ? 8 : 0; });
    plan.report.rows.push_back({c, one.agree, one.rel_error, false});
  }
  std::stable_sort(plan.report.rows.begin(), plan.report.rows.end(), [](const SensitivityRow& a, const SensitivityRow& b) {
    return a.agree != b.agree ? a.agree < b.agree : a.rel_error > b.rel_error;
  });
  for (SensitivityRow& row : plan.report.rows) {
    plan.wide.insert(row.name);
    row.wide = true;
    r = sim.run(mixed);
    plan.report.agree_chosen = r.agree;
    if (r.agree >= needed) break;
  }
  return plan;
}

}  // namespace tessera::quant
