// Authors' state dict -> canonical Tessera tensors. The authors' files store every per-head scalar
// divided by 10 (exp_param_scale); here they become the effective values the forward pass uses.
#include "model/convert.h"

#include "core/file_io.h"
#include "core/hash64.h"
#include "core/printable.h"
#include "model/content_hash.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <regex>
#include <set>

#include "format/gguf.h"
#include "model/hparams_gguf.h"

namespace tessera {
namespace {

constexpr const char* kCompilePrefix = "_orig_mod.";

struct Source {
  std::map<std::string, const Tensor*> by_name;
  const nlohmann::json* config;
  std::string file;

  const Tensor* find(const std::string& name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  }
  Result<const Tensor*> need(const std::string& name) const {
    if (const Tensor* t = find(name)) return t;
    return not_found(file + ": tensor '" + name + "' is missing");
  }
};

// A model_args value for a message: escaped, cut short, invalid UTF-8 replaced instead of thrown.
std::string json_text(const nlohmann::json& j) {
  return printable_prefix(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 200);
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Status check_shape(const Source& src, const Tensor& t, const std::vector<int64_t>& want) {
  if (t.shape != want)
    return invalid_argument(src.file + ": tensor '" + printable_prefix(t.name, 256) + "': expected shape " +
                            shape_str(want) + ", found " + t.shape_string());
  return Status();
}

// Optional config entries, type-checked; the error names the field.
Result<std::optional<int64_t>> cfg_int(const Source& src, const char* key) {
  auto it = src.config->find(key);
  if (it == src.config->end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer() && !it->is_boolean())
    return invalid_argument(src.file + ": model_args['" + key + "']: expected an integer, found " + json_text(*it));
  return std::optional<int64_t>(it->is_boolean() ? int64_t(it->get<bool>()) : it->get<int64_t>());
}
Result<std::optional<bool>> cfg_bool(const Source& src, const char* key) {
  auto it = src.config->find(key);
  if (it == src.config->end() || it->is_null()) return std::optional<bool>();
  if (it->is_boolean()) return std::optional<bool>(it->get<bool>());
  if (it->is_number_integer() && (it->get<int64_t>() == 0 || it->get<int64_t>() == 1))
    return std::optional<bool>(it->get<int64_t>() == 1);
  if (it->is_string()) {  // argparse str2bool leftovers
    std::string s = it->get<std::string>();
    if (s == "True" || s == "true" || s == "1") return std::optional<bool>(true);
    if (s == "False" || s == "false" || s == "0") return std::optional<bool>(false);
  }
  return invalid_argument(src.file + ": model_args['" + key + "']: expected a boolean, found " + json_text(*it));
}
Result<std::optional<std::string>> cfg_string(const Source& src, const char* key) {
  auto it = src.config->find(key);
  if (it == src.config->end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string())
    return invalid_argument(src.file + ": model_args['" + key + "']: expected a string, found " + json_text(*it));
  return std::optional<std::string>(it->get<std::string>());
}

// A config value, when present, must agree with what the tensor shapes say.
Status agree(const Source& src, const char* key, int64_t from_shapes, const std::string& shape_source) {
  TESSERA_ASSIGN_OR_RETURN(auto v, cfg_int(src, key));
  if (v && *v != from_shapes)
    return invalid_argument(src.file + ": model_args['" + key + "'] = " + std::to_string(*v) + " but " + shape_source +
                            " implies " + std::to_string(from_shapes));
  return Status();
}

Status require_value(const Source& src, const char* key, const char* want) {
  auto it = src.config->find(key);
  if (it == src.config->end() || it->is_null()) return Status();
  const std::string found = it->is_string() ? printable_prefix(it->get<std::string>(), 200) : json_text(*it);
  if (found != want)
    return unsupported(src.file + ": model_args['" + key + "'] = " + found + ": Tessera supports only " + want +
                       " (the authors' default)");
  return Status();
}

Tensor as_f32(std::string name, const Tensor& t, std::vector<int64_t> shape) {
  std::vector<float> v = tensor_to_f32(t);
  return make_f32_tensor(std::move(name), std::move(shape), v);
}

Tensor as_half(const Tensor& f32) {
  auto v = f32.as<float>();
  std::vector<std::byte> bytes(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    uint16_t h = float_to_half(v[i]);
    std::memcpy(bytes.data() + 2 * i, &h, 2);
  }
  return make_owned_tensor(f32.name, DType::kF16, f32.shape, std::move(bytes));
}

// Per-head scalar → effective value, computed in double from the stored float.
template <class F>
Tensor per_head(std::string name, const Tensor& t, F effective) {
  std::vector<float> raw = tensor_to_f32(t), out(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) out[i] = float(effective(double(raw[i])));
  return make_f32_tensor(std::move(name), {int64_t(out.size())}, out);
}

// A config.json / model_args naming another architecture is refused before the tensors are looked at.
Status check_architecture(const Checkpoint& ckpt) {
  const std::string field = ckpt.config_file.empty() ? ckpt.path + ": model_args['model_type']"
                                                     : ckpt.config_file + ": model_type";
  auto accepted = [](std::string v) {
    for (char& c : v) c = c == '_' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
    return v == "memory-mosaics" || v == "memorymosaics";
  };
  if (auto it = ckpt.config.find("model_type"); it != ckpt.config.end() && !it->is_null()) {
    if (!it->is_string() || !accepted(it->get<std::string>()))
      return unsupported(field + ": expected \"memory-mosaics\", found " + it->dump() +
                         " (a checkpoint of another architecture)");
  }
  return Status();
}

// save_pretrained wrappers put the state dict under a module name ("model.", "transformer.", ...): the prefix
// is whatever precedes the one tensor named "<prefix>emb.weight".
Result<std::string> state_dict_prefix(const Checkpoint& ckpt) {
  std::set<std::string> prefixes;
  for (const Tensor& t : ckpt.tensors) {
    std::string name = t.name;
    if (name.starts_with(kCompilePrefix)) name = name.substr(std::strlen(kCompilePrefix));
    if (name == "emb.weight") return std::string();
    if (name.ends_with(".emb.weight")) prefixes.insert(name.substr(0, name.size() - std::strlen("emb.weight")));
  }
  if (prefixes.size() > 1)
    return invalid_argument(ckpt.path + ": tensor names: expected one '<prefix>emb.weight', found " +
                            std::to_string(prefixes.size()) + " ('" + *prefixes.begin() + "emb.weight', '" +
                            *std::next(prefixes.begin()) + "emb.weight')");
  if (prefixes.empty()) {
    std::string seen;
    for (size_t i = 0; i < ckpt.tensors.size() && i < 3; ++i) seen += (i ? "', '" : "'") + ckpt.tensors[i].name;
    return not_found(ckpt.path + ": tensor 'emb.weight' is missing: not a Memory Mosaics state dict" +
                     (seen.empty() ? std::string(" (no tensors)") : " (found e.g. " + seen + "')"));
  }
  return *prefixes.begin();
}

}  // namespace

Result<Checkpoint> read_any_checkpoint(const std::string& input,
                                       const std::function<void(int64_t, int64_t)>& progress) {
  struct stat st {};
  if (stat(input.c_str(), &st) != 0) return not_found(input + ": no such file or folder");
  if (S_ISDIR(st.st_mode) || input.ends_with(".safetensors")) return read_safetensors(input, progress);
  return read_torch_checkpoint(input, progress);
}

Result<ConvertedModel> convert_checkpoint(const Checkpoint& ckpt, const ConvertOptions& options) {
  ConvertedModel out;
  Source src;
  src.config = &ckpt.config;
  src.file = ckpt.path;
  out.name = options.name.value_or(model_name_from_path(ckpt.path));
  TESSERA_RETURN_IF_ERROR(check_architecture(ckpt));
  TESSERA_ASSIGN_OR_RETURN(std::string prefix, state_dict_prefix(ckpt));
  bool compiled = false;
  for (const Tensor& t : ckpt.tensors) {
    std::string name = t.name;
    if (name.starts_with(kCompilePrefix)) {
      name = name.substr(std::strlen(kCompilePrefix));
      compiled = true;
    }
    if (!prefix.empty() && name.starts_with(prefix)) name = name.substr(prefix.size());
    if (!src.by_name.emplace(name, &t).second)
      return corrupt_file(
          src.file + ": tensor '" + printable_prefix(name, 256) + "' appears twice" +
          (prefix.empty() ? "" : " (once with the prefix '" + printable_prefix(prefix, 64) + "', once without)"));
  }
  if (compiled) out.notes.push_back("stripped the torch.compile prefix '_orig_mod.' from tensor names");
  if (!prefix.empty()) out.notes.push_back("stripped the prefix '" + prefix + "' from tensor names");

  // --- Shapes give the architecture; model_args must agree. ---
  TESSERA_ASSIGN_OR_RETURN(const Tensor* emb, src.need("emb.weight"));
  if (emb->shape.size() != 2)
    return invalid_argument(src.file + ": tensor 'emb.weight': expected 2 dims [vocab, n_embd], found " +
                            emb->shape_string());
  HParams& hp = out.hparams;
  hp.vocab_size = emb->shape[0];
  hp.n_embd = emb->shape[1];
  const int64_t C = hp.n_embd;

  std::set<int64_t> block_ids;
  static const std::regex kBlock(R"(^blocks\.(\d+)\..*)");
  for (auto& [name, t] : src.by_name) {
    std::smatch m;
    if (std::regex_match(name, m, kBlock)) block_ids.insert(std::stoll(m[1]));
  }
  if (block_ids.empty()) return not_found(src.file + ": no 'blocks.<i>.*' tensors: not a Memory Mosaics state dict");
  hp.n_layer = int64_t(block_ids.size());
  if (*block_ids.rbegin() != hp.n_layer - 1)
    return invalid_argument(src.file + ": blocks are not numbered 0.." + std::to_string(hp.n_layer - 1) +
                            " (found block " + std::to_string(*block_ids.rbegin()) + ")");

  const bool eft = src.find("blocks.0.attn.leaky_average.linear.weight") != nullptr;
  hp.source_variant = eft ? "eft" : "regular";
  TESSERA_ASSIGN_OR_RETURN(const Tensor* kb0, src.need("blocks.0.attn.kernel_beta"));
  if (kb0->shape.size() != 1)
    return invalid_argument(src.file + ": tensor 'blocks.0.attn.kernel_beta': expected shape [n_head], found " +
                            kb0->shape_string());
  hp.n_head = kb0->shape[0];
  if (hp.n_head < 1 || C % hp.n_head != 0)
    return invalid_argument(src.file + ": n_head = " + std::to_string(hp.n_head) +
                            " (from blocks.0.attn.kernel_beta) does not divide n_embd = " + std::to_string(C));
  const int64_t H = hp.n_head, d = C / H;
  hp.attn_only = src.find("blocks.0.ln2.weight") == nullptr && src.find("blocks.0.pmem.kernel_beta") == nullptr;
  hp.bias = src.find("blocks.0.ln1.bias") != nullptr;
  if (!hp.attn_only) {
    int64_t count = 0;
    while (src.find("blocks.0.pmem.pmem.M_k" + std::to_string(count))) ++count;
    if (count == 0) return not_found(src.file + ": tensor 'blocks.0.pmem.pmem.M_k0' is missing");
    hp.pmem_count = count;
    const Tensor* mk = src.find("blocks.0.pmem.pmem.M_k0");
    if (mk->shape.size() != 4 || mk->shape[0] != 1 || mk->shape[1] != H || mk->shape[3] != d)
      return invalid_argument(src.file + ": tensor 'blocks.0.pmem.pmem.M_k0': expected shape [1, " + std::to_string(H) +
                              ", N, " + std::to_string(d) + "], found " + mk->shape_string());
    hp.pmem_size = mk->shape[2];
  }
  TESSERA_RETURN_IF_ERROR(agree(src, "vocab_size", hp.vocab_size, "emb.weight's shape"));
  TESSERA_RETURN_IF_ERROR(agree(src, "n_embd", C, "emb.weight's shape"));
  TESSERA_RETURN_IF_ERROR(agree(src, "n_head", H, "blocks.0.attn.kernel_beta's shape"));
  TESSERA_RETURN_IF_ERROR(agree(src, "n_layer", hp.n_layer, "the blocks.<i> tensors"));
  if (!hp.attn_only) {
    TESSERA_RETURN_IF_ERROR(agree(src, "pmem_size", hp.pmem_size, "blocks.0.pmem.pmem.M_k0's shape"));
    TESSERA_RETURN_IF_ERROR(agree(src, "pmem_count", hp.pmem_count, "the M_k<i> tensors"));
  }
  TESSERA_RETURN_IF_ERROR(agree(src, "attn_only", hp.attn_only, "the presence of ln2/pmem tensors"));
  TESSERA_RETURN_IF_ERROR(agree(src, "bias", hp.bias, "the presence of ln1.bias"));
  for (auto [key, want] :
       {std::pair{"k_fe_type", "linearconv"}, std::pair{"v_fe_type", "lowrlinearconv"}, std::pair{"k_kernel_size", "1"},
        std::pair{"v_kernel_size", "2"}, std::pair{"v_shift", "1"}, std::pair{"att_shift", "0"}})
    TESSERA_RETURN_IF_ERROR(require_value(src, key, want));

  TESSERA_ASSIGN_OR_RETURN(auto pre_ln, cfg_bool(src, "pre_ln"));
  hp.pre_ln = pre_ln.value_or(true);
  TESSERA_ASSIGN_OR_RETURN(auto block_size, cfg_int(src, "block_size"));
  if (!block_size) out.notes.push_back("model_args has no block_size: using 512 (the authors' default)");
  hp.block_size = block_size.value_or(512);

  // --- Attention method and mask. ---
  TESSERA_ASSIGN_OR_RETURN(auto cfg_method, cfg_string(src, "method"));
  std::string method_name;
  if (options.method) {
    method_name = *options.method;
  } else if (cfg_method) {
    method_name = *cfg_method;
  } else {
    method_name = "softmax";
    out.notes.push_back(
        "model_args has no 'method' (facebookresearch code: softmax only): using softmax; "
        "pass --method to override");
  }
  TESSERA_ASSIGN_OR_RETURN(hp.method, AttentionMethod::parse(method_name));
  hp.method.form = eft ? SeedForm::kEft : SeedForm::kRegular;
  // Only the seed's EFT file computes relumax / norm_relu / uniform top-K, and it slices the causal
  // mask without the value-shift offset: query t sees keys j <= t-2.
  const bool seed_eft_mask = eft &&
                             (hp.method.kind == AttentionKind::kReluMax || hp.method.kind == AttentionKind::kNormRelu ||
                              hp.method.kind == AttentionKind::kTopKUniform);
  hp.mask_offset = options.mask_offset.value_or(seed_eft_mask ? 2 : 1);
  if (seed_eft_mask && !options.mask_offset)
    out.notes.push_back("EFT key names with " + hp.method.name() +
                        ": the seed's EFT file, so query t attends to keys j <= t-2 (mask offset 2)");
  hp.l2_norm_eps = eft ? 1e-6f : 0.0f;
  hp.logit_scale = float(1.0 / std::sqrt(double(C)));

  // --- Tensors. ---
  auto& T = out.tensors;
  auto vec = [&](const std::string& from, const std::string& to) -> Status {
    TESSERA_ASSIGN_OR_RETURN(const Tensor* t, src.need(from));
    TESSERA_RETURN_IF_ERROR(check_shape(src, *t, {C}));
    T.push_back(as_f32(to, *t, {C}));
    return Status();
  };
  auto mat = [&](const std::string& from, const std::string& to, bool conv) -> Status {
    TESSERA_ASSIGN_OR_RETURN(const Tensor* t, src.need(from + ".weight"));
    TESSERA_RETURN_IF_ERROR(check_shape(src, *t, conv ? std::vector<int64_t>{C, C, 1} : std::vector<int64_t>{C, C}));
    T.push_back(as_f32(to + ".weight", *t, {C, C}));
    if (hp.bias) {
      if (const Tensor* b = src.find(from + ".bias")) {
        TESSERA_RETURN_IF_ERROR(check_shape(src, *b, {C}));
        T.push_back(as_f32(to + ".bias", *b, {C}));
      }
    }
    return Status();
  };
  auto head = [&](const std::string& from, const std::string& to, auto effective) -> Status {
    TESSERA_ASSIGN_OR_RETURN(const Tensor* t, src.need(from));
    TESSERA_RETURN_IF_ERROR(check_shape(src, *t, {H}));
    T.push_back(per_head(to, *t, effective));
    return Status();
  };
  auto norm = [&](const std::string& from, const std::string& to) -> Status {
    TESSERA_RETURN_IF_ERROR(vec(from + ".weight", to + ".weight"));
    if (hp.bias) TESSERA_RETURN_IF_ERROR(vec(from + ".bias", to + ".bias"));
    return Status();
  };
  const auto decay = [](double b) { return std::exp(-10.0 * std::fabs(b)); };
  const auto key_scale = [](double b) { return std::exp(std::min(10.0 * b, 5.0)); };
  const auto query_scale = [](double b) {
    double s = std::exp(std::min(10.0 * b, 5.0));
    return s * s;
  };
  const auto value_scale = [](double b) { return std::exp(10.0 * b); };
  const auto value_scale_eft_ctx = [](double b) { return std::exp(std::min(10.0 * b, 5.0)); };
  const auto value_scale_eft_pmem = [](double b) { return std::min(std::exp(10.0 * b), 5.0); };

  T.push_back(as_f32(tensor_names::kTokenEmbd, *emb, {hp.vocab_size, C}));
  for (int64_t i = 0; i < hp.n_layer; ++i) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    auto name = [&](const char* suffix) { return tensor_names::block(i, suffix); };
    auto stem = [&](const char* suffix) {  // "blk.i.attn_k" from "attn_k.weight"
      std::string s = name(suffix);
      return s.substr(0, s.size() - std::strlen(".weight"));
    };
    TESSERA_RETURN_IF_ERROR(norm(b + "ln1", stem(tensor_names::kAttnNorm)));
    if (eft) {
      TESSERA_RETURN_IF_ERROR(mat(b + "attn.leaky_average.linear", stem(tensor_names::kAttnK), false));
      TESSERA_RETURN_IF_ERROR(head(b + "attn.leaky_average.leaky_beta_w_under", name(tensor_names::kAttnDecay), decay));
    } else {
      TESSERA_RETURN_IF_ERROR(mat(b + "attn.k_featurizer.conv", stem(tensor_names::kAttnK), true));
      TESSERA_RETURN_IF_ERROR(head(b + "attn.leaky_key_beta", name(tensor_names::kAttnDecay), decay));
    }
    TESSERA_RETURN_IF_ERROR(mat(b + "attn.v_featurizer.linear", stem(tensor_names::kAttnV), false));
    TESSERA_RETURN_IF_ERROR(mat(b + "attn.c_proj", stem(tensor_names::kAttnOut), false));
    TESSERA_RETURN_IF_ERROR(head(b + "attn.kernel_beta", name(tensor_names::kAttnKeyScale), key_scale));
    if (eft)
      TESSERA_RETURN_IF_ERROR(head(b + "attn.value_beta", name(tensor_names::kAttnValueScale), value_scale_eft_ctx));
    else TESSERA_RETURN_IF_ERROR(head(b + "attn.value_beta", name(tensor_names::kAttnValueScale), value_scale));
    TESSERA_RETURN_IF_ERROR(
        head(b + "attn.v_featurizer.coef", name(tensor_names::kAttnValueMix), [](double c) { return c; }));
    if (hp.attn_only) {
      if (options.progress) options.progress(i + 1, hp.n_layer);
      continue;
    }
    TESSERA_RETURN_IF_ERROR(norm(b + "ln2", stem(tensor_names::kPmemNorm)));
    if (eft) {
      TESSERA_RETURN_IF_ERROR(mat(b + "pmem.leaky_average.linear", stem(tensor_names::kPmemK), false));
      TESSERA_RETURN_IF_ERROR(head(b + "pmem.leaky_average.leaky_beta_w_under", name(tensor_names::kPmemDecay), decay));
      TESSERA_RETURN_IF_ERROR(head(b + "pmem.value_beta", name(tensor_names::kPmemValueScale), value_scale_eft_pmem));
    } else {
      TESSERA_RETURN_IF_ERROR(mat(b + "pmem.k_featurizer.conv", stem(tensor_names::kPmemK), true));
      TESSERA_RETURN_IF_ERROR(head(b + "pmem.leaky_key_beta", name(tensor_names::kPmemDecay), decay));
      TESSERA_RETURN_IF_ERROR(head(b + "pmem.value_beta", name(tensor_names::kPmemValueScale), value_scale));
    }
    TESSERA_RETURN_IF_ERROR(mat(b + "pmem.c_proj", stem(tensor_names::kPmemOut), false));
    TESSERA_RETURN_IF_ERROR(head(b + "pmem.kernel_beta", name(tensor_names::kPmemQueryScale), query_scale));
    for (const char* kv : {"k", "v"}) {
      std::vector<float> all;
      for (int64_t p = 0; p < hp.pmem_count; ++p) {
        const std::string from = b + "pmem.pmem.M_" + kv + std::to_string(p);
        TESSERA_ASSIGN_OR_RETURN(const Tensor* m, src.need(from));
        TESSERA_RETURN_IF_ERROR(check_shape(src, *m, {1, H, hp.pmem_size, d}));
        std::vector<float> v = tensor_to_f32(*m);
        all.insert(all.end(), v.begin(), v.end());
      }
      T.push_back(make_f32_tensor(name(*kv == 'k' ? tensor_names::kPmemMemK : tensor_names::kPmemMemV),
                                  {hp.pmem_count, H, hp.pmem_size, d}, all));
    }
    if (options.progress) options.progress(i + 1, hp.n_layer);
  }
  TESSERA_RETURN_IF_ERROR(norm("ln_out", "output_norm"));
  if (const Tensor* h = src.find("head.weight")) {
    TESSERA_RETURN_IF_ERROR(check_shape(src, *h, {hp.vocab_size, C}));
    const bool same = h->nbytes == emb->nbytes && h->dtype == emb->dtype &&
                      (h->data == emb->data || std::memcmp(h->data, emb->data, h->nbytes) == 0);
    hp.weight_tying = same;
    if (!same) T.push_back(as_f32(tensor_names::kOutput, *h, {hp.vocab_size, C}));
  }
  TESSERA_ASSIGN_OR_RETURN(auto tying, cfg_bool(src, "weight_tying"));
  if (tying && *tying && !hp.weight_tying)
    out.notes.push_back("model_args says weight_tying but head.weight differs from emb.weight: kept both");

  if (hp.method.kind == AttentionKind::kNormRelu && hp.method.form == SeedForm::kRegular) {
    // The authors' regular norm_relu gives masked (future) keys relu(1 - 2β²), non-zero when β² < 1/2;
    // a causal runtime cannot attend to the future, so Tessera keeps them at 0.
    for (const Tensor& t : T)
      if (t.name.ends_with(tensor_names::kAttnKeyScale))
        for (float beta : t.as<float>())
          if (double(beta) * beta < 0.5) {
            out.notes.push_back("warning: " + t.name +
                                " has β² < 1/2: the authors' norm_relu would weight future "
                                "keys there; Tessera stays causal");
            break;
          }
  }
  if (options.f16)
    for (Tensor& t : T)
      if (t.shape.size() >= 2) t = as_half(t);

  if (auto it = ckpt.config.find("tokenizer"); it != ckpt.config.end() && it->is_array()) {
    for (auto& tok : *it) {
      if (!tok.is_string()) return invalid_argument(src.file + ": model_args['tokenizer']: expected a list of strings");
      out.tokenizer.push_back(tok.get<std::string>());
    }
    if (int64_t(out.tokenizer.size()) != hp.vocab_size)
      return invalid_argument(src.file + ": model_args['tokenizer'] has " + std::to_string(out.tokenizer.size()) +
                              " tokens, expected vocab_size = " + std::to_string(hp.vocab_size));
  }
  TESSERA_RETURN_IF_ERROR(hp.validate().with_context(src.file));
  return out;
}

}  // namespace tessera

namespace tessera {

Status write_model_gguf(const ConvertedModel& model, const std::string& path,
                        const std::function<void(int64_t, int64_t)>& progress) {
  gguf::Writer w;
  write_hparams(w, model.hparams, model.name, file_type_of(model.tensors));
  write_tokenizer(w, model.tokenizer);
  for (const Tensor& t : model.tensors) TESSERA_RETURN_IF_ERROR(w.add_tensor(t));
  w.set_string(keys::kContentHash, hash64_hex(content_hash(model.tensors)));
  if (!progress) return w.write(path);
  int64_t total = 0, done = 0;
  for (const Tensor& t : model.tensors) total += int64_t(t.nbytes);
  Status st = write_file_atomically(path, [&](const ByteSink& sink) {
    return w.write_to([&](std::span<const std::byte> b) {
      TESSERA_RETURN_IF_ERROR(sink(b));
      done += int64_t(b.size());
      progress(std::min(done, total), total);  // the header and padding count too: capped
      return Status();
    });
  });
  // As gguf::Writer::write: I/O errors already name the path, invalid keys or tensors do not.
  if (!st.ok() && st.code() != StatusCode::kIoError) return st.with_context(path);
  return st;
}

}  // namespace tessera
