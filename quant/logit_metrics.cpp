// Logit comparison metrics (see logit_metrics.h).
#include "quant/logit_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tessera::quant {

namespace {

// log Σ exp(x) with the max shift, in double.
double log_sum_exp(const float* x, int64_t n, double* max_out) {
  double mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double(x[i]));
  double z = 0;
  for (int64_t i = 0; i < n; ++i) z += std::exp(double(x[i]) - mx);
  if (max_out) *max_out = mx;
  return mx + std::log(z);
}

std::string number(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

}  // namespace

double kl_divergence(const float* base, const float* quant, int64_t n) {
  const double lb = log_sum_exp(base, n, nullptr), lq = log_sum_exp(quant, n, nullptr);
  double kl = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double log_p = double(base[i]) - lb, log_q = double(quant[i]) - lq;
    kl += std::exp(log_p) * (log_p - log_q);
  }
  return std::max(kl, 0.0);  // rounding can leave -1e-17 for identical rows
}

double negative_log_likelihood(const float* logits, int64_t n, int32_t target) {
  return log_sum_exp(logits, n, nullptr) - double(logits[target]);
}

void LogitComparer::add(const float* base, const float* quant, int64_t n, int32_t next_token) {
  kl_.push_back(kl_divergence(base, quant, n));
  agree_ += std::max_element(base, base + n) - base == std::max_element(quant, quant + n) - quant;
  if (next_token >= 0 && next_token < n) {
    base_nll_ += negative_log_likelihood(base, n, next_token);
    quant_nll_ += negative_log_likelihood(quant, n, next_token);
    ++scored_;
  }
}

LogitComparison LogitComparer::result() const {
  LogitComparison r;
  r.positions = int64_t(kl_.size());
  r.agree = agree_;
  r.scored = scored_;
  if (!kl_.empty()) {
    std::vector<double> sorted = kl_;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double k : sorted) sum += k;
    r.kl_mean = sum / double(sorted.size());
    const size_t rank = size_t(std::ceil(0.99 * double(sorted.size())));
    r.kl_p99 = sorted[std::max<size_t>(rank, 1) - 1];
    r.kl_max = sorted.back();
  }
  if (scored_ > 0) {
    r.base_perplexity = std::exp(base_nll_ / double(scored_));
    r.quant_perplexity = std::exp(quant_nll_ / double(scored_));
  }
  return r;
}

std::string LogitComparison::text() const {
  char b[512];
  std::snprintf(b, sizeof b,
                "positions            %lld\n"
                "top-1 agreement      %lld/%lld = %.2f %%\n"
                "KL(base || quant)    mean %.6g, p99 %.6g, max %.6g nats\n",
                (long long)positions, (long long)agree, (long long)positions,
                positions ? 100.0 * double(agree) / double(positions) : 0.0, kl_mean, kl_p99, kl_max);
  std::string s = b;
  if (scored > 0) {
    std::snprintf(b, sizeof b, "perplexity           base %.6g, quant %.6g (ratio %.5f) over %lld next tokens\n",
                  base_perplexity, quant_perplexity, quant_perplexity / base_perplexity, (long long)scored);
    s += b;
  }
  return s;
}

std::string LogitComparison::json() const {
  std::string s = "{\"positions\": " + std::to_string(positions) + ", \"agree\": " + std::to_string(agree) +
                  ", \"agreement_percent\": " + number(positions ? 100.0 * double(agree) / double(positions) : 0.0) +
                  ", \"kl_mean\": " + number(kl_mean) + ", \"kl_p99\": " + number(kl_p99) +
                  ", \"kl_max\": " + number(kl_max) + ", \"scored\": " + std::to_string(scored);
  if (scored > 0)
    s += ", \"base_perplexity\": " + number(base_perplexity) + ", \"quant_perplexity\": " + number(quant_perplexity);
  return s + "}\n";
}

}  // namespace tessera::quant
