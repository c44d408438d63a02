#include "model/hparams.h"

#include <cmath>

namespace tessera {

namespace tensor_names {
std::string block(int64_t layer, const char* suffix) { return "blk." + std::to_string(layer) + "." + suffix; }
}  // namespace tensor_names

static Status range_error(const char* field, const std::string& expected, int64_t found) {
  return invalid_argument(std::string("hyperparameter ") + field + ": expected " + expected + ", found " +
                          std::to_string(found));
}

Status HParams::validate() const {
  constexpr int64_t kMax = int64_t(1) << 31;
  if (vocab_size < 1 || vocab_size > kMax) return range_error("vocab_size", "1..2^31", vocab_size);
  if (n_embd < 1 || n_embd > 65536) return range_error("n_embd", "1..65536", n_embd);
  if (n_head < 1 || n_head > n_embd) return range_error("n_head", "1..n_embd", n_head);
  if (n_embd % n_head != 0) return range_error("n_head", "a divisor of n_embd=" + std::to_string(n_embd), n_head);
  if (n_layer < 1 || n_layer > 1024) return range_error("n_layer", "1..1024", n_layer);
  if (block_size < 1 || block_size > kMax) return range_error("block_size", "1..2^31", block_size);
  if (!attn_only) {
    if (pmem_size < 1 || pmem_size > kMax) return range_error("pmem_size", "1..2^31", pmem_size);
    if (pmem_count < 1 || pmem_count > 64) return range_error("pmem_count", "1..64", pmem_count);
  }
  if (mask_offset != 1 && mask_offset != 2) return range_error("mask_offset", "1 or 2", mask_offset);
  if (method.kind == AttentionKind::kEntmaxAlpha && !(method.alpha > 1.0 && std::isfinite(method.alpha)))
    return invalid_argument("hyperparameter attention.alpha: expected a finite value > 1, found " +
                            std::to_string(method.alpha));
  if ((method.kind == AttentionKind::kTopKSoftmax || method.kind == AttentionKind::kTopKUniform) && method.top_k < 1)
    return range_error("attention.top_k", ">= 1", method.top_k);
  if (method.kind == AttentionKind::kReluMax && !(method.relumax_b > 0))
    return invalid_argument("hyperparameter attention.relumax_b: expected > 0");
  if (!(layer_norm_eps > 0) || !std::isfinite(layer_norm_eps))
    return invalid_argument("hyperparameter layer_norm_epsilon: expected a finite value > 0");
  if (!(l2_norm_eps >= 0) || !std::isfinite(l2_norm_eps))
    return invalid_argument("hyperparameter l2_norm_epsilon: expected a finite value >= 0");
  if (!(logit_scale > 0) || !std::isfinite(logit_scale))
    return invalid_argument("hyperparameter logit_scale: expected a finite value > 0");
  return Status();
}

}  // namespace tessera
