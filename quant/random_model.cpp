#include "quant/random_model.h"

#include <cmath>
#include <random>

#include "core/hash64.h"
#include "format/gguf.h"
#include "model/content_hash.h"
#include "model/hparams_gguf.h"
#include "quant/calibrate.h"
#include "quant/float_model.h"

namespace tessera::quant {

namespace {

struct Preset {
  const char* name;
  int64_t layers, embd, heads, slots, vocab, block;
};

constexpr Preset kPresets[] = {
    {"gpt2-small", 12, 768, 12, 2688, 50304, 1024},
    {"small", 6, 512, 8, 1024, 8192, 512},
    {"tiny", 2, 128, 4, 64, 512, 128},
};

}  // namespace

const std::vector<std::string>& random_model_preset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const Preset& p : kPresets) n.push_back(p.name);
    return n;
  }();
  return names;
}

Result<HParams> random_model_preset(const std::string& preset, const std::string& method) {
  for (const Preset& p : kPresets) {
    if (preset != p.name) continue;
    HParams hp;
    hp.n_layer = p.layers;
    hp.n_embd = p.embd;
    hp.n_head = p.heads;
    hp.pmem_size = p.slots;
    hp.vocab_size = p.vocab;
    hp.block_size = p.block;
    auto m = AttentionMethod::parse(method);
    if (!m.ok()) return invalid_argument("--method '" + method + "': " + m.status().message());
    hp.method = *m;
    hp.logit_scale = float(1.0 / std::sqrt(double(hp.n_embd)));
    TESSERA_RETURN_IF_ERROR(hp.validate());
    return hp;
  }
  return invalid_argument("unknown random model '" + preset + "' (gpt2-small, small, tiny)");
}

ConvertedModel make_random_model(const HParams& hparams, uint64_t seed) {
  ConvertedModel m;
  m.hparams = hparams;
  const HParams& hp = m.hparams;
  std::mt19937_64 rng(seed);
  const int64_t C = hp.n_embd, H = hp.n_head, d = hp.head_dim(), V = hp.vocab_size;
  auto add_normal = [&](const std::string& name, std::vector<int64_t> shape, double sd) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    std::normal_distribution<float> g{0.0f, float(sd)};
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = g(rng);
    m.tensors.push_back(make_f32_tensor(name, std::move(shape), v));
  };
  // Per-head scalars and LayerNorm gains in the ranges of the authors' trained models (effective values).
  auto add_uniform = [&](const std::string& name, int64_t n, double lo, double hi) {
    std::uniform_real_distribution<float> u{float(lo), float(hi)};
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = u(rng);
    m.tensors.push_back(make_f32_tensor(name, {n}, v));
  };
  const double matrix_sd = 1.0 / std::sqrt(double(C));
  const double memory_sd = 1.0 / std::sqrt(double(d));
  add_normal("token_embd.weight", {V, C}, 1.0);
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add_uniform(p + "attn_norm.weight", C, 0.5, 1.5);
    for (const char* stem : {"attn_k", "attn_v", "attn_output"}) add_normal(p + stem + ".weight", {C, C}, matrix_sd);
    add_uniform(p + "attn_key_decay", H, 0.05, 0.95);
    add_uniform(p + "attn_key_scale", H, 1.2, 7.0);
    add_uniform(p + "attn_value_scale", H, 0.6, 1.4);
    add_uniform(p + "attn_value_mix", H, -0.2, 1.2);
    if (hp.attn_only) continue;
    add_uniform(p + "pmem_norm.weight", C, 0.5, 1.5);
    add_normal(p + "pmem_k.weight", {C, C}, matrix_sd);
    add_normal(p + "pmem_output.weight", {C, C}, matrix_sd);
    add_uniform(p + "pmem_key_decay", H, 0.05, 0.95);
    add_uniform(p + "pmem_query_scale", H, 1.44, 49.0);  // β² for β in [1.2, 7]
    add_uniform(p + "pmem_value_scale", H, 0.6, 1.4);
    add_normal(p + "pmem_mem_k", {hp.pmem_count, H, hp.pmem_size, d}, memory_sd);
    add_normal(p + "pmem_mem_v", {hp.pmem_count, H, hp.pmem_size, d}, memory_sd);
  }
  add_uniform("output_norm.weight", C, 0.5, 1.5);
  return m;
}

Result<std::vector<std::byte>> model_gguf_bytes(const ConvertedModel& model) {
  gguf::Writer w;
  write_hparams(w, model.hparams, model.name, file_type_of(model.tensors));
  write_tokenizer(w, model.tokenizer);
  for (const Tensor& t : model.tensors) TESSERA_RETURN_IF_ERROR(w.add_tensor(t));
  w.set_string(keys::kContentHash, hash64_hex(content_hash(model.tensors)));
  return w.serialize();
}

Result<std::vector<std::byte>> quantized_int8_gguf_bytes(const ConvertedModel& model, int64_t calibration_sequences,
                                                         int64_t calibration_length, int threads) {
  const std::vector<Tensor>& tensors = model.tensors;
  TESSERA_ASSIGN_OR_RETURN(
      FloatModel f,
      float_model_from_tensors(model.hparams, [&](const std::string& n) { return find_in(tensors, n); },
                               "random model"));
  QuantizeOptions o;
  o.mode = QuantMode::kInt8;
  o.threads = threads;
  o.calibration_sequences =
      random_calibration_sequences(model.hparams.vocab_size, calibration_sequences, calibration_length, 5);
  o.calibration_source = "random tokens";
  TESSERA_ASSIGN_OR_RETURN(QuantizedModel q, quantize_model(std::move(f), o));
  gguf::Writer w;
  write_hparams(w, q.hp, "", file_type_of(q.tensors));
  for (const auto& [key, value] : q.string_metadata) w.set_string(key, value);
  for (const Tensor& t : q.tensors) TESSERA_RETURN_IF_ERROR(w.add_tensor(t));
  w.set_string(keys::kContentHash, hash64_hex(content_hash(q.tensors)));
  return w.serialize();
}

int64_t parameter_count(const std::vector<Tensor>& tensors) {
  int64_t n = 0;
  for (const Tensor& t : tensors) n += t.numel();
  return n;
}

}  // namespace tessera::quant
