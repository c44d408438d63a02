#include "cpu/cpu_backend.h"

#include <algorithm>
#include <cstring>

#include "cpu/context_memory.h"
#include "cpu/float_weights.h"
#include "cpu/parallel_linear.h"
#include "cpu/persistent_memory.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"

namespace tessera {
namespace {

using cpu::ContextMemory;
using cpu::FloatWeights;
using cpu::PersistentMemory;

struct LayerRunners {
  ContextMemory ctx;
  PersistentMemory pmem;
};

class CpuSequence final : public BackendSequence {
 public:
  CpuSequence(std::shared_ptr<const FloatWeights> w, std::shared_ptr<const std::vector<LayerRunners>> runners,
              int64_t capacity, std::shared_ptr<cpu::ThreadPool> pool)
      : w_(std::move(w)),
        runners_(std::move(runners)),
        cap_(capacity),
        pool_holder_(std::move(pool)),
        pool_(*pool_holder_) {
    const HParams& hp = w_->hparams();
    const size_t C = size_t(hp.n_embd);
    ctx_.resize(size_t(hp.n_layer));
    for (auto& s : ctx_) s.init(hp.n_embd, cap_);
    pmem_state_.assign(size_t(hp.n_layer), std::vector<double>(C, 0.0));
    ctx_scratch_.init(hp, cap_, pool_.threads());
    pmem_scratch_.init(hp, pool_.threads());
    x_.assign(C, 0.0f);
    h_.assign(C, 0.0f);
    y_.assign(C, 0.0f);
  }

  Status forward(std::span<const int32_t> tokens, std::span<float> logits, bool all_rows) override {
    const HParams& hp = w_->hparams();
    const int64_t n = int64_t(tokens.size());
    const size_t V = size_t(hp.vocab_size);
    cpu::ThreadPool::DecodingScope decoding;
    for (int64_t i = 0; i < n; ++i) {
      step(tokens[size_t(i)]);
      if (all_rows) write_logits(logits.data() + size_t(i) * V);
      else if (i == n - 1) write_logits(logits.data());
    }
    return Status();
  }

  void reset() override {
    pos_ = 0;
    for (auto& s : ctx_) s.reset();
    for (auto& s : pmem_state_) std::fill(s.begin(), s.end(), 0.0);
  }
  int64_t position() const override { return pos_; }
  int64_t capacity() const override { return cap_; }

 private:
  void step(int32_t token) {
    const HParams& hp = w_->hparams();
    const int64_t C = hp.n_embd;
    float* x = x_.data();
    float* h = h_.data();
    float* y = y_.data();
    std::memcpy(x, w_->token_embd() + int64_t(token) * C, size_t(C) * sizeof(float));
    for (int64_t l = 0; l < hp.n_layer; ++l) {
      const cpu::FloatLayer& lw = w_->layer(l);
      const LayerRunners& r = (*runners_)[size_t(l)];
      if (hp.pre_ln) {
        ops::layer_norm_f32(x, lw.attn_norm_w, lw.attn_norm_b, hp.layer_norm_eps, h, C);
        r.ctx.step(pool_, ctx_[size_t(l)], ctx_scratch_, pos_, cap_, h, y);
        for (int64_t i = 0; i < C; ++i) x[i] += y[i];
        if (!hp.attn_only) {
          ops::layer_norm_f32(x, lw.pmem_norm_w, lw.pmem_norm_b, hp.layer_norm_eps, h, C);
          r.pmem.step(pool_, pmem_state_[size_t(l)].data(), pmem_scratch_, h, y);
          for (int64_t i = 0; i < C; ++i) x[i] += y[i];
        }
      } else {  // post-LN: x = LN1(x); x += attn(x); x = LN2(x); x += pmem(x)
        ops::layer_norm_f32(x, lw.attn_norm_w, lw.attn_norm_b, hp.layer_norm_eps, h, C);
        r.ctx.step(pool_, ctx_[size_t(l)], ctx_scratch_, pos_, cap_, h, y);
        for (int64_t i = 0; i < C; ++i) x[i] = h[i] + y[i];
        if (!hp.attn_only) {
          ops::layer_norm_f32(x, lw.pmem_norm_w, lw.pmem_norm_b, hp.layer_norm_eps, h, C);
          r.pmem.step(pool_, pmem_state_[size_t(l)].data(), pmem_scratch_, h, y);
          for (int64_t i = 0; i < C; ++i) x[i] = h[i] + y[i];
        }
      }
    }
    ++pos_;
  }

  void write_logits(float* out) {
    const HParams& hp = w_->hparams();
    const int64_t C = hp.n_embd;
    ops::layer_norm_f32(x_.data(), w_->output_norm_w, w_->output_norm_b, hp.layer_norm_eps, h_.data(), C);
    cpu::parallel_linear(pool_, w_->output(), nullptr, h_.data(), out, hp.vocab_size, C);
    for (int64_t v = 0; v < hp.vocab_size; ++v) out[v] *= hp.logit_scale;
  }

  std::shared_ptr<const FloatWeights> w_;
  std::shared_ptr<const std::vector<LayerRunners>> runners_;
  int64_t cap_;
  std::shared_ptr<cpu::ThreadPool> pool_holder_;  // the model's pool, shared by all its sessions
  cpu::ThreadPool& pool_;
  int64_t pos_ = 0;
  std::vector<cpu::ContextMemoryState> ctx_;
  std::vector<std::vector<double>> pmem_state_;
  cpu::ContextMemoryScratch ctx_scratch_;
  cpu::PersistentMemoryScratch pmem_scratch_;
  std::vector<float> x_, h_, y_;
};

class CpuBackend final : public Backend {
 public:
  CpuBackend(std::shared_ptr<const FloatWeights> w, int threads)
      : w_(std::move(w)), pool_(std::make_shared<cpu::ThreadPool>(threads)) {
    auto runners = std::make_shared<std::vector<LayerRunners>>();
    for (int64_t l = 0; l < w_->hparams().n_layer; ++l)
      runners->push_back(LayerRunners{ContextMemory(*w_, l), PersistentMemory(*w_, l)});
    runners_ = runners;
  }
  std::string name() const override { return "cpu"; }
  // Per position: the key and value caches of every layer (float) and each thread's attention row
  // (scores, probabilities, transform scratch: float; cosines: double).
  CheckedSize sequence_state_bytes(int64_t max_tokens) const override {
    const HParams& hp = w_->hparams();
    const CheckedSize C = CheckedSize::of(hp.n_embd), L = CheckedSize::of(hp.n_layer),
                      T = CheckedSize::of(pool_->threads());
    const CheckedSize per_position = L * C * 8 + T * 20;
    const CheckedSize fixed = L * C * 20 + C * 24 + T * CheckedSize::of(hp.head_dim()) * 8;
    return CheckedSize::of(max_tokens) * per_position + fixed;
  }
  Result<std::unique_ptr<BackendSequence>> new_sequence(int64_t max_tokens) override {
    return std::unique_ptr<BackendSequence>(new CpuSequence(w_, runners_, max_tokens, pool_));
  }

 private:
  std::shared_ptr<const FloatWeights> w_;
  std::shared_ptr<const std::vector<LayerRunners>> runners_;
  std::shared_ptr<cpu::ThreadPool> pool_;  // one per model: sessions share it (thread_pool.h)
};

}  // namespace

Result<std::unique_ptr<Backend>> make_cpu_backend(std::shared_ptr<const ModelWeights> weights,
                                                  const LoadOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(auto fw, FloatWeights::prepare(std::move(weights)));
  return std::unique_ptr<Backend>(new CpuBackend(std::move(fw), options.threads));
}

}  // namespace tessera
