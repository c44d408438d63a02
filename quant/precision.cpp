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

// The first restart point (quant/batched_forward.h) whose values a candidate changes.
int64_t first_point_of(const std::string& name, int64_t n_layer) {
  if (name == "token_embd.weight") return 0;
  if (name.rfind("blk.", 0) != 0) return restart_point(n_layer, Stage::kLayerInput);  // the output side
  const int64_t layer = std::stoll(name.substr(4));
  const std::string what = name.substr(name.find('.', 4) + 1);
  Stage stage = Stage::kLayerInput;  // act.h1, attn_k, attn_v
  if (what == "act.o" || what == "attn_output.weight") stage = Stage::kAttentionOutput;
  if (what == "act.h2" || what == "pmem_k.weight" || what == "pmem_mem_k" || what == "pmem_mem_v")
    stage = Stage::kPmemInput;
  if (what == "act.r" || what == "pmem_output.weight") stage = Stage::kPmemOutput;
  return restart_point(layer, stage);
}

class Simulator {
 public:
  Simulator(BatchedForward& engine, const ActivationRanges& ranges, const SearchReference& ref)
      : engine_(engine), ranges_(ranges), ref_(ref), logits_(size_t(engine.threads())) {}
  int64_t positions() const { return ref_.positions; }

  struct Result {
    int64_t agree = 0;
    double rel_error = 0;
  };

  // The first `limit` positions (0: all). Sequences run in parallel, one per thread; their sums are
  // added in sequence order, so the result does not depend on the thread count.
  Result run(const BitsFn& bits, int64_t first_point = 0, int64_t limit = 0) {
    const HParams& hp = engine_.model().hp;
    const int64_t V = hp.vocab_size;
    RoundingObserver obs(ranges_, bits, hp.n_layer);
    const WeightBitsFn weight_bits = bits;
    const int64_t end = limit > 0 ? std::min(limit, ref_.positions) : ref_.positions;
    struct Part {
      int64_t agree = 0;
      double noise = 0, power = 0;
    };
    std::vector<int64_t> offset;  // first position of each simulated sequence
    for (int64_t s = 0, pos = 0; size_t(s) < ref_.sequences.size() && pos < end; ++s) {
      offset.push_back(pos);
      pos += int64_t(ref_.sequences[size_t(s)].size());
    }
    std::vector<Part> parts(offset.size());
    auto one = [&](int64_t s, int worker) {
      const int64_t pos0 = offset[size_t(s)];
      const size_t n = size_t(std::min<int64_t>(int64_t(ref_.sequences[size_t(s)].size()), end - pos0));
      // A causal model: the first n positions of a sequence need only its first n tokens.
      const std::vector<int32_t> tokens(ref_.sequences[size_t(s)].begin(), ref_.sequences[size_t(s)].begin() + long(n));
      ForwardRun run;
      run.observer = &obs;
      run.weight_bits = &weight_bits;
      run.first_point = first_point;
      run.start = &ref_.inputs[size_t(s)];
      std::vector<float>& out = logits_[size_t(std::max(worker, 0))];
      if (worker < 0) engine_.run(tokens, run, out);
      else engine_.run_on(worker, tokens, run, out);
      Part& part = parts[size_t(s)];
      for (size_t t = 0; t < n; ++t) {
        const float* l = out.data() + t * size_t(V);
        const float* e = ref_.logits.data() + (size_t(pos0) + t) * size_t(V);
        part.agree += int32_t(std::max_element(l, l + V) - l) == ref_.top1[size_t(pos0) + t];
        for (int64_t v = 0; v < V; ++v) {
          part.noise += (double(l[v]) - e[v]) * (double(l[v]) - e[v]);
          part.power += double(e[v]) * e[v];
        }
      }
    };
    const int64_t S = int64_t(offset.size());
    // Fewer sequences than threads (a large model's few search positions): split every step instead.
    if (S >= engine_.threads()) engine_.for_each(S, one);
    else
      for (int64_t s = 0; s < S; ++s) one(s, -1);
    Result r;
    double noise = 0, power = 0;
    for (const Part& p : parts) {
      r.agree += p.agree;
      noise += p.noise;
      power += p.power;
    }
    r.rel_error = power > 0 ? std::sqrt(noise / power) : 0.0;
    return r;
  }

 private:
  BatchedForward& engine_;
  const ActivationRanges& ranges_;
  const SearchReference& ref_;
  std::vector<std::vector<float>> logits_;  // per worker
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
                                          first_point_of(c, folded.hp.n_layer), options.sensitivity_positions);
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
