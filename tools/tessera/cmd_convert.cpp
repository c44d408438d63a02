// tessera convert IN OUT.gguf: authors' ckpt.pt or a Hugging Face safetensors folder (single or sharded,
// prefixed keys, F32/F16/BF16) -> Tessera GGUF.
#include <iostream>

#include "command.h"
#include "model/convert.h"
#include "progress.h"

namespace tessera::cli {
namespace {

struct ConvertArgs {
  std::string input, output, method, name;
  int mask_offset = 0;
  bool f16 = false, quiet = false, verbose = false;
};

int run_convert(const ConvertArgs& a) {
  if (!a.method.empty()) {
    auto method = AttentionMethod::parse(a.method);
    if (!method.ok()) return usage_error("convert", "--method: " + method.status().message());
  }
  // Progress with an ETA on stderr for a phase longer than a second (a large checkpoint).
  PhaseProgress progress(!a.quiet, a.verbose);
  // Byte counts in MiB, in KiB for a file under a MiB.
  auto in_bytes = [&progress](const char* phase) {
    return [&progress, phase](int64_t done, int64_t total) {
      const bool mib = total >= (int64_t(1) << 20);
      progress.update(phase, done >> (mib ? 20 : 10), total >> (mib ? 20 : 10), mib ? "MiB" : "KiB");
    };
  };
  auto ckpt = read_any_checkpoint(a.input, in_bytes("reading"));
  progress.end_line();
  if (!ckpt.ok()) return fail("convert", ckpt.status().message());
  ConvertOptions o;
  if (!a.method.empty()) o.method = a.method;
  if (a.mask_offset != 0) o.mask_offset = a.mask_offset;
  o.f16 = a.f16;
  if (!a.name.empty()) o.name = a.name;
  o.progress = [&progress](int64_t done, int64_t total) { progress.update("converting", done, total, "layers"); };
  auto model = convert_checkpoint(ckpt.value(), o);
  if (!model.ok()) return fail("convert", model.status().message());
  for (const std::string& note : model->notes) std::cerr << "note: " << note << "\n";
  Status st = write_model_gguf(model.value(), a.output, in_bytes("writing"));
  progress.end_line();
  if (!st.ok()) return fail("convert", st.message());
  const HParams& hp = model->hparams;
  std::cout << "wrote " << a.output << ": '" << model->name << "', " << hp.source_variant << " Memory Mosaics, "
            << hp.n_layer << " layers, C=" << hp.n_embd << ", " << hp.n_head << " heads, vocab " << hp.vocab_size
            << ", attention " << hp.method.name() << " (mask offset " << hp.mask_offset << "), "
            << model->tensors.size() << " tensors" << (a.f16 ? " (F16)" : "") << "\n";
  return kExitOk;
}

Registration reg(
    "convert", "convert an authors' ckpt.pt or a Hugging Face safetensors folder to a Tessera GGUF",
    [](CLI::App& sub) -> Action {
      auto a = std::make_shared<ConvertArgs>();
      sub.add_option("input", a->input,
                     "ckpt.pt, a .safetensors file, or a save_pretrained folder (model.safetensors or "
                     "shards + model.safetensors.index.json)")
          ->required();
      sub.add_option("output", a->output, "output .gguf (written atomically)")->required();
      sub.add_option("--method", a->method,
                     "attention method when the checkpoint does not say (or to override): softmax, "
                     "sparsemax|epanechnikov, entmax15|biweight, entmax43|triweight, entmax:<alpha>, "
                     "relumax, norm_relu, top<K>_softmax, top<K>_uniform");
      sub.add_option("--mask-offset", a->mask_offset,
                     "query t sees keys j <= t - offset (1: authors' files; 2: the seed's EFT variant, "
                     "inferred automatically)")
          ->check(CLI::IsMember({1, 2}));
      sub.add_flag("--f16", a->f16, "store matrices and memories as F16");
      sub.add_flag("--quiet", a->quiet, "no progress lines on stderr");
      sub.add_flag("--verbose", a->verbose, "a progress line for every phase, also those shorter than a second");
      sub.add_option("--name", a->name, "general.name (default: the input's folder or file name)");
      return [a] { return run_convert(*a); };
    },
    10);

}  // namespace
}  // namespace tessera::cli
