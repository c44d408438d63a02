#include <algorithm>
#include <cmath>

#include "tessera/tessera.h"

namespace tessera {

Status SamplingParams::validate() const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature))
    return invalid_argument("sampling temperature must be a finite value >= 0 (0: greedy), found " +
                            std::to_string(temperature));
  if (top_k < 0) return invalid_argument("sampling top_k must be >= 0 (0: off), found " + std::to_string(top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f))
    return invalid_argument("sampling top_p must be in (0, 1] (1: off), found " + std::to_string(top_p));
  return Status();
}

Result<Sampler> Sampler::create(const SamplingParams& params) {
  TESSERA_RETURN_IF_ERROR(params.validate());
  return Sampler(params);
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed), valid_(params.validate().ok()) {}

int32_t Sampler::sample(Span<const float> logits) {
  const int32_t n = int32_t(logits.size());
  if (n == 0 || !valid_) return -1;
  if (params_.temperature <= 0.0f) {  // greedy; the lowest index wins ties
    int32_t best = 0;
    for (int32_t i = 1; i < n; ++i)
      if (logits[size_t(i)] > logits[size_t(best)]) best = i;
    return best;
  }
  scratch_.resize(size_t(n));  // allocates only when the vocabulary grows
  for (int32_t i = 0; i < n; ++i) scratch_[size_t(i)] = {logits[size_t(i)], i};
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  size_t keep = size_t(n);
  if (params_.top_k > 0 && size_t(params_.top_k) < keep) {
    keep = size_t(params_.top_k);
    std::partial_sort(scratch_.begin(), scratch_.begin() + std::ptrdiff_t(keep), scratch_.end(), by_logit);
  } else {
    std::sort(scratch_.begin(), scratch_.end(), by_logit);
  }
  // Softmax over the kept candidates at the temperature, in double.
  const double mx = scratch_[0].first, inv_t = 1.0 / double(params_.temperature);
  double total = 0;
  std::vector<double>& w = weights_;
  w.resize(keep);
  for (size_t i = 0; i < keep; ++i) total += (w[i] = std::exp((double(scratch_[i].first) - mx) * inv_t));
  if (params_.top_p < 1.0f) {
    double cum = 0;
    size_t cut = keep;
    for (size_t i = 0; i < keep; ++i) {
      cum += w[i] / total;
      if (cum >= double(params_.top_p)) {
        cut = i + 1;
        break;
      }
    }
    keep = std::max<size_t>(cut, 1);
    total = 0;
    for (size_t i = 0; i < keep; ++i) total += w[i];
  }
  const double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
  double cum = 0;
  for (size_t i = 0; i < keep; ++i) {
    cum += w[i];
    if (u < cum) return scratch_[i].second;
  }
  return scratch_[keep - 1].second;
}

}  // namespace tessera
