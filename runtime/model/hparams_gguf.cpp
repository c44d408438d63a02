#include "model/hparams_gguf.h"

#include <cmath>
#include <filesystem>

#include "tessera/version.h"

namespace tessera {

GgufFileType file_type_of(const std::vector<Tensor>& tensors) {
  bool f16 = false;
  for (const Tensor& t : tensors) {
    if (t.dtype == DType::kI8 || t.dtype == DType::kI16) return GgufFileType::kNotSpecified;
    f16 |= t.dtype == DType::kF16 && t.shape.size() >= 2;
  }
  return f16 ? GgufFileType::kMostlyF16 : GgufFileType::kAllF32;
}

std::string model_name_from_path(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "dir/" -> "dir"
  std::error_code ec;
  if (fs::is_directory(p, ec)) return fs::absolute(p, ec).filename().string();
  // Generic file names (ckpt.pt, model.safetensors, model.gguf) say nothing: the folder names the model.
  const std::string stem = p.stem().string();
  if (stem == "ckpt" || stem == "model" || stem == "pytorch_model") {
    const std::string dir = fs::absolute(p, ec).parent_path().filename().string();
    if (!dir.empty()) return dir;
  }
  return stem;
}

void write_hparams(gguf::Writer& w, const HParams& hp, const std::string& model_name, GgufFileType file_type) {
  w.set_string("general.architecture", keys::kArchitecture);
  if (!model_name.empty()) w.set_string("general.name", model_name);
  w.set_u32("general.file_type", uint32_t(file_type));
  w.set_u32("general.quantization_version", kGgmlQuantizationVersion);
  w.set_string(kConverterVersionKey, TESSERA_VERSION_STRING);
  w.set_u32("general.alignment", gguf::kDefaultAlignment);
  w.set_u64(keys::kVocabSize, uint64_t(hp.vocab_size));
  w.set_u64(keys::kEmbd, uint64_t(hp.n_embd));
  w.set_u64(keys::kHeads, uint64_t(hp.n_head));
  w.set_u64(keys::kLayers, uint64_t(hp.n_layer));
  w.set_u64(keys::kContext, uint64_t(hp.block_size));
  w.set_u64(keys::kPmemSize, uint64_t(hp.pmem_size));
  w.set_u64(keys::kPmemCount, uint64_t(hp.pmem_count));
  w.set_bool(keys::kBias, hp.bias);
  w.set_bool(keys::kPreLn, hp.pre_ln);
  w.set_bool(keys::kAttnOnly, hp.attn_only);
  w.set_bool(keys::kWeightTying, hp.weight_tying);
  w.set_string(keys::kMethod, hp.method.name());
  if (hp.method.kind == AttentionKind::kEntmaxAlpha) w.set_f64(keys::kAlpha, hp.method.alpha);
  if (hp.method.kind == AttentionKind::kTopKSoftmax || hp.method.kind == AttentionKind::kTopKUniform)
    w.set_u32(keys::kTopK, uint32_t(hp.method.top_k));
  w.set_string(keys::kSeedForm, hp.method.form == SeedForm::kEft ? "eft" : "regular");
  w.set_f32(keys::kReluMaxB, float(hp.method.relumax_b));
  w.set_u32(keys::kMaskOffset, uint32_t(hp.mask_offset));
  w.set_f32(keys::kLnEps, hp.layer_norm_eps);
  w.set_f32(keys::kL2Eps, hp.l2_norm_eps);
  w.set_f32(keys::kLogitScale, hp.logit_scale);
  w.set_string(keys::kVariant, hp.source_variant);
}

void write_tokenizer(gguf::Writer& w, const std::vector<std::string>& tokens) {
  if (tokens.empty()) return;
  w.set_string("tokenizer.ggml.model", "tessera-chars");
  w.set_string_array(keys::kTokenizerTokens, tokens);
}

Result<HParams> read_hparams(const gguf::File& f) {
  TESSERA_ASSIGN_OR_RETURN(std::string arch, f.get_string("general.architecture"));
  if (arch != keys::kArchitecture)
    return unsupported(f.name() + ": general.architecture: expected \"memory-mosaics\", found \"" + arch + "\"");
  HParams hp;
  TESSERA_ASSIGN_OR_RETURN(hp.vocab_size, f.get_int(keys::kVocabSize));
  TESSERA_ASSIGN_OR_RETURN(hp.n_embd, f.get_int(keys::kEmbd));
  TESSERA_ASSIGN_OR_RETURN(hp.n_head, f.get_int(keys::kHeads));
  TESSERA_ASSIGN_OR_RETURN(hp.n_layer, f.get_int(keys::kLayers));
  TESSERA_ASSIGN_OR_RETURN(hp.block_size, f.get_int(keys::kContext));
  TESSERA_ASSIGN_OR_RETURN(hp.attn_only, f.get_bool(keys::kAttnOnly));
  if (!hp.attn_only) {
    TESSERA_ASSIGN_OR_RETURN(hp.pmem_size, f.get_int(keys::kPmemSize));
    TESSERA_ASSIGN_OR_RETURN(hp.pmem_count, f.get_int(keys::kPmemCount));
  }
  TESSERA_ASSIGN_OR_RETURN(hp.bias, f.get_bool(keys::kBias));
  TESSERA_ASSIGN_OR_RETURN(hp.pre_ln, f.get_bool(keys::kPreLn));
  if (f.has(keys::kWeightTying)) {
    TESSERA_ASSIGN_OR_RETURN(hp.weight_tying, f.get_bool(keys::kWeightTying));
  }
  TESSERA_ASSIGN_OR_RETURN(std::string method, f.get_string(keys::kMethod));
  auto parsed = AttentionMethod::parse(method);
  if (!parsed.ok()) return parsed.status().with_context(f.name() + ": " + keys::kMethod);
  hp.method = parsed.value();
  if (f.has(keys::kSeedForm)) {
    TESSERA_ASSIGN_OR_RETURN(std::string form, f.get_string(keys::kSeedForm));
    if (form != "regular" && form != "eft")
      return invalid_argument(f.name() + ": " + keys::kSeedForm + ": expected \"regular\" or \"eft\", found \"" + form +
                              "\"");
    hp.method.form = form == "eft" ? SeedForm::kEft : SeedForm::kRegular;
  }
  if (f.has(keys::kReluMaxB)) {
    TESSERA_ASSIGN_OR_RETURN(hp.method.relumax_b, f.get_float(keys::kReluMaxB));
  }
  if (f.has(keys::kMaskOffset)) {
    TESSERA_ASSIGN_OR_RETURN(int64_t off, f.get_int(keys::kMaskOffset));
    hp.mask_offset = int(off);
  }
  if (f.has(keys::kLnEps)) {
    TESSERA_ASSIGN_OR_RETURN(double v, f.get_float(keys::kLnEps));
    hp.layer_norm_eps = float(v);
  }
  if (f.has(keys::kL2Eps)) {
    TESSERA_ASSIGN_OR_RETURN(double v, f.get_float(keys::kL2Eps));
    hp.l2_norm_eps = float(v);
  }
  hp.logit_scale = float(1.0 / std::sqrt(double(hp.n_embd)));
  if (f.has(keys::kLogitScale)) {
    TESSERA_ASSIGN_OR_RETURN(double v, f.get_float(keys::kLogitScale));
    hp.logit_scale = float(v);
  }
  if (f.has(keys::kVariant)) {
    TESSERA_ASSIGN_OR_RETURN(hp.source_variant, f.get_string(keys::kVariant));
  }
  TESSERA_RETURN_IF_ERROR(hp.validate().with_context(f.name()));
  return hp;
}

}  // namespace tessera
