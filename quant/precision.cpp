// Mixed-precision search (see precision.h). The simulation rounds exactly what the integer runtime
// rounds at the candidate points (weights on their stored grid, activation sites at their calibrated
// scales with saturation) and keeps everything else in float (quant/batched_forward.h): the remaining integer steps
// (Q15 unit vectors, Q16 scores, Q23 weights) are 2^-15 or finer and are measured on the real runtime instead
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
  return block_name(layer, std::string("act.") + int8::site_name(site));
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
  for (int64_t i = 0; i < n; ++i) v[i] = s * round_clamped(v[i] / s, qmax);
}

class RoundingObserver : public ActivationObserver {
 public:
  RoundingObserver(const ActivationRanges& r, const BitsFn& bits, int64_t layers) : ranges_(r) {
    for (int64_t l = 0; l < layers; ++l)
      for (Site s : {Site::kH1, Site::kO, Site::kH2, Site::kR})
        site_bits_[{l, int(s)}] = bits(activation_site_name(l, s));
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

// The layer from which a candidate changes the forward pass (n_layer: only the output side).
int64_t first_layer_of(const std::string& name, int64_t n_layer) {
  if (name == "token_embd.weight") return 0;
  if (name.rfind("blk.", 0) == 0) return std::stoll(name.substr(4));
  return n_layer;
}

class Simulator {
 public:
  Simulator(BatchedForward& engine, const ActivationRanges& ranges, const SearchReference& ref)
      : engine_(engine), ranges_(ranges), ref_(ref) {}
  int64_t positions() const { return ref_.positions; }

  struct Result {
    int64_t agree = 0;
    double rel_error = 0;
  };

  // The first `limit` positions (0: all).
  Result run(const BitsFn& bits, int64_t first_layer = 0, int64_t limit = 0) {
    const HParams& hp = engine_.model().hp;
    const int64_t V = hp.vocab_size;
    RoundingObserver obs(ranges_, bits, hp.n_layer);
    const WeightBitsFn weight_bits = bits;
    Result r;
    double noise = 0, power = 0;
    size_t pos = 0;
    const size_t end = limit > 0 ? size_t(std::min(limit, ref_.positions)) : size_t(ref_.positions);
    for (size_t s = 0; s < ref_.sequences.size() && pos < end; ++s) {
      const size_t n = std::min(ref_.sequences[s].size(), end - pos);
      // A causal model: the first n positions of a sequence need only its first n tokens.
      std::vector<int32_t> tokens(ref_.sequences[s].begin(), ref_.sequences[s].begin() + long(n));
      ForwardRun run;
      run.observer = &obs;
      run.weight_bits = &weight_bits;
      run.first_layer = first_layer;
      run.start = &ref_.inputs[s];
      engine_.run(tokens, run, logits_);
      for (size_t t = 0; t < n; ++t, ++pos) {
        const float* l = logits_.data() + t * size_t(V);
        const float* e = ref_.logits.data() + pos * size_t(V);
        r.agree += int32_t(std::max_element(l, l + V) - l) == ref_.top1[pos];
        for (int64_t v = 0; v < V; ++v) {
          noise += (double(l[v]) - e[v]) * (double(l[v]) - e[v]);
          power += double(e[v]) * e[v];
        }
      }
    }
    r.rel_error = power > 0 ? std::sqrt(noise / power) : 0.0;
    return r;
  }

 private:
  BatchedForward& engine_;
  const ActivationRanges& ranges_;
  const SearchReference& ref_;
  std::vector<float> logits_;
};

}  // namespace

std::string PrecisionReport::text() const {
  std::string s = std::string("precision: ") + precision_mode_name(mode);
  char line[256];
  if (agree_int8 >= 0) {
    std::snprintf(line, sizeof line, "; simulated top-1 vs float on %lld calibration positions: all int8 %lld",
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

int64_t search_positions(const PrecisionOptions& options, int64_t macs_per_token, int64_t vocab_size) {
  // Reference logits are kept (float32): at most 2^24 of them.
  int64_t p = std::min<int64_t>(options.max_positions, (int64_t(1) << 24) / std::max<int64_t>(vocab_size, 1));
  p = std::min<int64_t>(p, std::max<int64_t>(64, options.max_pass_macs / std::max<int64_t>(macs_per_token, 1)));
  return std::max<int64_t>(1, p);
}

Result<PrecisionPlan> choose_precision(BatchedForward& engine, const ActivationRanges& ranges,
                                       const SearchReference& reference, const PrecisionOptions& options,
                                       const std::function<void(int64_t, int64_t)>& progress) {
  const FloatModel& folded = engine.model();
  PrecisionPlan plan;
  plan.report.mode = options.mode;
  const std::vector<std::string> all = precision_candidates(folded.hp);
  for (const std::string& name : options.force_int16) {
    if (std::find(all.begin(), all.end(), name) == all.end()) {
      std::string known;
      for (const std::string& c : all) known += (known.empty() ? "" : ", ") + c;
      return invalid_argument("--int16: '" + name +
                              "' is not a tensor or activation site of this model (expected one of: " + known + ")");
    }
    plan.wide.insert(name);
  }
  if (options.mode == PrecisionMode::kInt16) plan.wide.insert(all.begin(), all.end());
  if (reference.positions == 0) {
    if (options.mode == PrecisionMode::kAuto) return invalid_argument("precision search: no calibration sequences");
    return plan;
  }
  Simulator sim(engine, ranges, reference);
  const int64_t P = sim.positions();
  plan.report.positions = P;
  const int64_t needed = int64_t(std::ceil(options.target_agreement / 100.0 * double(P) - 1e-9));
  auto mixed = [&plan](const std::string& n) { return plan.is_wide(n) ? 16 : 8; };
  int64_t passes = 0, expected = options.mode == PrecisionMode::kAuto ? 1 + int64_t(all.size()) : 1;
  auto tick = [&] {
    if (progress) progress(++passes, std::max(expected, passes));
  };
  Simulator::Result r = sim.run(mixed);
  tick();
  plan.report.agree_int8 = plan.report.agree_chosen = r.agree;
  if (options.mode != PrecisionMode::kAuto || r.agree >= needed) return plan;
  for (const std::string& c : all) {
    const Simulator::Result one = sim.run([&c](const std::string& n) { return n == c ? 8 : 0; },
                                          first_layer_of(c, folded.hp.n_layer), options.sensitivity_positions);
    plan.report.rows.push_back({c, one.agree, one.rel_error, false});
    tick();
  }
  std::stable_sort(plan.report.rows.begin(), plan.report.rows.end(),
                   [](const SensitivityRow& a, const SensitivityRow& b) {
                     return a.agree != b.agree ? a.agree < b.agree : a.rel_error > b.rel_error;
                   });
  // The fewest most-sensitive candidates at 16 bits that reach the target: k = 1, 2, 4, ... until one
  // passes, then bisection between the last failure and it.
  const std::set<std::string> forced = plan.wide;
  std::map<size_t, int64_t> agree_at;
  const size_t n = plan.report.rows.size();
  auto try_prefix = [&](size_t k) {
    if (auto it = agree_at.find(k); it != agree_at.end()) return it->second >= needed;
    plan.wide = forced;
    for (size_t i = 0; i < k; ++i) plan.wide.insert(plan.report.rows[i].name);
    agree_at[k] = sim.run(mixed).agree;
    tick();
    return agree_at[k] >= needed;
  };
  expected = passes + 2 * int64_t(std::ceil(std::log2(double(n) + 1)));
  size_t lo = 0, hi = 1;
  while (hi < n && !try_prefix(hi)) {
    lo = hi;
    hi = std::min(n, 2 * hi);
  }
  if (try_prefix(hi))
    while (hi - lo > 1) {
      const size_t mid = lo + (hi - lo) / 2;
      (try_prefix(mid) ? hi : lo) = mid;
    }
  plan.wide = forced;
  for (size_t i = 0; i < hi; ++i) {
    plan.wide.insert(plan.report.rows[i].name);
    plan.report.rows[i].wide = true;
  }
  try_prefix(hi);
  plan.report.agree_chosen = agree_at[hi];
  if (progress) progress(passes, passes);
  return plan;
}

}  // namespace tessera::quant
