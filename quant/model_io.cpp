// Quantizer file I/O (see model_io.h).
#include "quant/model_io.h"

#include "format/gguf.h"
#include "model/convert.h"
#include "model/hparams_gguf.h"
#include "core/hash64.h"
#include "core/printable.h"
#include "model/content_hash.h"

namespace tessera::quant {

static bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

Result<FloatModel> load_float_model(const std::string& input) {
  if (ends_with(input, ".gguf")) {
    auto file = gguf::File::open(input);
    if (!file.ok()) return file.status();
    for (const Tensor& t : file->tensors())
      if (t.dtype == DType::kI8 || t.dtype == DType::kI16)
        return invalid_argument(input + ": already quantized (tensor '" + printable_prefix(t.name, 256) + "' is " +
                                std::string(dtype_name(t.dtype)) +
                                "); quantize reads float models (ckpt.pt, safetensors or a float GGUF)");
    auto hp = read_hparams(*file);
    if (!hp.ok()) return hp.status();
    const gguf::File& f = *file;
    auto m = float_model_from_tensors(
        *hp, [&f](const std::string& n) { return f.find_tensor(n); }, input,
        [&f](const Tensor& t) { f.release_pages(t.data, t.nbytes); });
    if (!m.ok()) return m.status();
    if (f.has(keys::kTokenizerTokens)) {
      auto tokens = f.get_string_array(keys::kTokenizerTokens);
      if (!tokens.ok()) return tokens.status();
      m->tokens = std::move(*tokens);
    }
    auto general_name = f.get_string("general.name");
    m->name = general_name.ok() ? *general_name : model_name_from_path(input);
    return m;
  }
  auto ckpt = read_any_checkpoint(input);
  if (!ckpt.ok()) return ckpt.status();
  auto converted = convert_checkpoint(*ckpt, ConvertOptions{});
  if (!converted.ok()) return converted.status();
  const std::vector<Tensor>& tensors = converted->tensors;
  auto m = float_model_from_tensors(
      converted->hparams, [&](const std::string& n) { return find_in(tensors, n); }, input);
  if (!m.ok()) return m.status();
  m->tokens = converted->tokenizer;
  m->name = converted->name;
  return m;
}

namespace {

Result<gguf::Writer> quantized_gguf_writer(const QuantizedModel& model, const std::vector<std::string>& tokenizer,
                                           const std::string& name) {
  gguf::Writer w;
  write_hparams(w, model.hp, name, file_type_of(model.tensors));
  write_tokenizer(w, tokenizer);
  for (const auto& [key, value] : model.string_metadata) w.set_string(key, value);
  for (const Tensor& t : model.tensors) TESSERA_RETURN_IF_ERROR(w.add_tensor(t));
  w.set_string(keys::kContentHash, hash64_hex(content_hash(model.tensors)));
  return w;
}

}  // namespace

Status write_quantized_gguf(const QuantizedModel& model, const std::vector<std::string>& tokenizer,
                            const std::string& path, const std::string& name) {
  TESSERA_ASSIGN_OR_RETURN(gguf::Writer w, quantized_gguf_writer(model, tokenizer, name));
  return w.write(path);
}

Result<std::vector<std::byte>> quantized_gguf_bytes(const QuantizedModel& model,
                                                    const std::vector<std::string>& tokenizer,
                                                    const std::string& name) {
  TESSERA_ASSIGN_OR_RETURN(gguf::Writer w, quantized_gguf_writer(model, tokenizer, name));
  return w.serialize();
}

Result<std::shared_ptr<const ModelWeights>> quantized_model_view(const QuantizedModel& model,
                                                                 const std::string& source) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, quantized_gguf_bytes(model));
  auto owner = std::make_shared<const std::vector<std::byte>>(std::move(bytes));
  TESSERA_ASSIGN_OR_RETURN(gguf::File file, gguf::File::parse(*owner, owner, source));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<ModelWeights> weights,
                           ModelWeights::from_gguf(std::make_shared<const gguf::File>(std::move(file))));
  return std::shared_ptr<const ModelWeights>(std::move(weights));
}

}  // namespace tessera::quant
