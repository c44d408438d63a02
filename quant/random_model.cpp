#include "quant/random_model.h"

#include <cmath>
#include <cstring>
#include <random>

#include "core/dtype.h"
#include "core/hash64.h"
#include "format/gguf.h"
#include "model/content_hash.h"
#include "model/hparams_gguf.h"
#include "quant/calibrate.h"
#include "quant/float_model.h"
#include "quant/model_io.h"

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

ConvertedModel make_random_model(const HParams& hparams, const RandomModelOptions& options) {
  ConvertedModel m;
  m.hparams = hparams;
  HParams& hp = m.hparams;
  if (hp.logit_scale == 0) hp.logit_scale = float(1.0 / std::sqrt(double(hp.n_embd)));
  std::mt19937_64 rng(options.seed);
  const int64_t C = hp.n_embd, H = hp.n_head, d = hp.head_dim(), V = hp.vocab_size;
  auto normal = [&](const std::vector<int64_t>& shape, double sd) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    std::normal_distribution<double> g(0, sd);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = float(g(rng));
    return v;
  };
  auto uniform = [&](int64_t n, double lo, double hi) {
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = float(u(rng));
    return v;
  };
  auto add = [&](const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
    if (!options.f16 || shape.size() < 2) {
      m.tensors.push_back(make_f32_tensor(name, std::move(shape), v));
      return;
    }
    std::vector<std::byte> b(v.size() * 2);
    for (size_t i = 0; i < v.size(); ++i) {
      const uint16_t h = float_to_half(v[i]);
      std::memcpy(b.data() + 2 * i, &h, 2);
    }
    m.tensors.push_back(make_owned_tensor(name, DType::kF16, std::move(shape), std::move(b)));
  };
  // Matrices ~ N(0, 1/C); per-head scalars and LayerNorm gains in the ranges of the authors' trained models
  // (effective values).
  const double matrix_sd = 1.0 / std::sqrt(double(C));
  const double memory_sd = 1.0 / std::sqrt(double(d));
  add("token_embd.weight", {V, C}, normal({V, C}, 1.0));
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    auto norm = [&](const std::string& stem) {
      add(p + stem + ".weight", {C}, uniform(C, 0.5, 1.5));
      if (hp.bias) add(p + stem + ".bias", {C}, normal({C}, 0.1));
    };
    auto mat = [&](const std::string& stem) {
      add(p + stem + ".weight", {C, C}, normal({C, C}, matrix_sd));
      if (hp.bias) add(p + stem + ".bias", {C}, normal({C}, 0.1));
    };
    auto beta = [&](double lo, double hi) {  // β per head; head 0 on the clamp β = e^5 when asked
      std::vector<float> b = uniform(H, lo, hi);
      if (options.clamped_head) b[0] = float(std::exp(5.0));
      return b;
    };
    norm("attn_norm");
    mat("attn_k");
    mat("attn_v");
    mat("attn_output");
    add(p + "attn_key_decay", {H}, uniform(H, 0.05, 0.95));
    add(p + "attn_key_scale", {H}, beta(1.2, 7.0));
    add(p + "attn_value_scale", {H}, uniform(H, 0.6, 1.4));
    add(p + "attn_value_mix", {H}, uniform(H, -0.2, 1.2));
    if (hp.attn_only) continue;
    norm("pmem_norm");
    mat("pmem_k");
    mat("pmem_output");
    add(p + "pmem_key_decay", {H}, uniform(H, 0.05, 0.95));
    std::vector<float> query_scale = beta(1.2, 7.0);
    for (float& q : query_scale) q *= q;  // β²
    add(p + "pmem_query_scale", {H}, query_scale);
    add(p + "pmem_value_scale", {H}, uniform(H, 0.6, 1.4));
    const std::vector<int64_t> slots = {hp.pmem_count, H, hp.pmem_size, d};
    add(p + "pmem_mem_k", slots, normal(slots, memory_sd));
    add(p + "pmem_mem_v", slots, normal(slots, memory_sd));
  }
  add("output_norm.weight", {C}, uniform(C, 0.5, 1.5));
  if (hp.bias) add("output_norm.bias", {C}, normal({C}, 0.1));
  if (options.untied) {
    add("output.weight", {V, C}, normal({V, C}, 1.0));
    hp.weight_tying = false;
  }
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
  TESSERA_ASSIGN_OR_RETURN(FloatModel f, float_model_from_tensors(
                                             model.hparams, [&](const std::string& n) { return find_in(tensors, n); },
                                             "random model"));
  QuantizeOptions o;
  o.mode = QuantMode::kInt8;
  o.threads = threads;
  o.calibration_sequences =
      random_calibration_sequences(model.hparams.vocab_size, calibration_sequences, calibration_length, 5);
  o.calibration_source = "random tokens";
  TESSERA_ASSIGN_OR_RETURN(QuantizedModel q, quantize_model(std::move(f), o));
  return quantized_gguf_bytes(q);
}

int64_t parameter_count(const std::vector<Tensor>& tensors) {
  int64_t n = 0;
  for (const Tensor& t : tensors) n += t.numel();
  return n;
}

}  // namespace tessera::quant
