// How far a quantized model's next-token distributions are from the float model's, measured as
// llama.cpp's `llama-perplexity --kl-divergence` does: per position KL(P_float || P_quant) of the
// softmax distributions, top-1 agreement, and the perplexity of each model on the data's next tokens.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::quant {

// KL(softmax(base) || softmax(quant)) in nats, accumulated in double with the log-sum-exp shift.
double kl_divergence(const float* base, const float* quant, int64_t n);

// -log softmax(logits)[target] in nats.
double negative_log_likelihood(const float* logits, int64_t n, int32_t target);

struct LogitComparison {
  int64_t positions = 0, agree = 0;
  double kl_mean = 0, kl_p99 = 0, kl_max = 0;  // nats; p99 by nearest rank
  int64_t scored = 0;                          // positions with a next token (perplexity)
  double base_perplexity = 0, quant_perplexity = 0;
  std::string text() const;
  std::string json() const;
};

class LogitComparer {
 public:
  // One position: both models' logits (n values) and the token that follows (-1: none, e.g. the last).
  void add(const float* base, const float* quant, int64_t n, int32_t next_token);
  LogitComparison result() const;

 private:
  std::vector<double> kl_;
  int64_t agree_ = 0, scored_ = 0;
  double base_nll_ = 0, quant_nll_ = 0;
};

}  // namespace tessera::quant
