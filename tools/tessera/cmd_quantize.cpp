// tessera quantize IN OUT.gguf: fold, calibrate and quantize a float model (ckpt.pt, safetensors
// folder or float GGUF) for the int8 CPU backend (--int8), the Vulkan path (--weights-only) or
// as F16 (--f16). Prints a per-tensor SQNR report; writes atomically.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "command.h"
#include "quant/model_io.h"
#include "quant/quantize_model.h"

namespace tessera::cli {
namespace {

struct QuantizeArgs {
  std::string input, output, calib_file, calib_task, calib_method = "minmax", precision = "auto";
  double precision_target = 99.5;
  std::vector<std::string> force_int16;
  bool int8 = false, weights_only = false, f16 = false, quiet = false;
  double percentile = 99.99;
  int64_t calib_sequences = 16, calib_length = 0;
  uint64_t seed = 1;
};

// A one-line progress bar on a terminal (stderr); nothing when redirected.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled && isatty(fileno(stderr))) {}
  void update(int64_t done, int64_t total) {
    if (!enabled_ || total <= 0) return;
    const int width = 40, filled = int(width * done / total);
    if (filled == last_ && done != total) return;
    last_ = filled;
    std::fprintf(stderr, "\rcalibrating [%.*s%*s] %lld/%lld tokens", filled, "########################################",
                 width - filled, "", (long long)done, (long long)total);
    if (done == total) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
  int last_ = -1;
};

int run_quantize(const QuantizeArgs& a) {
  const int modes = int(a.int8) + int(a.weights_only) + int(a.f16);
  if (modes > 1) return usage_error("quantize", "choose one of --int8, --weights-only, --f16");
  quant::QuantizeOptions o;
  o.mode = a.weights_only ? quant::QuantMode::kWeightsOnly : a.f16 ? quant::QuantMode::kF16 : quant::QuantMode::kInt8;
  if (a.calib_method == "percentile") {
    o.calibration.method = quant::CalibrationMethod::kPercentile;
    o.calibration.percentile = a.percentile;
  }
  o.precision.mode = a.precision == "int8"    ? quant::PrecisionMode::kInt8
                     : a.precision == "int16" ? quant::PrecisionMode::kInt16
                                              : quant::PrecisionMode::kAuto;
  o.precision.target_agreement = a.precision_target;
  o.precision.force_int16 = a.force_int16;
  auto model = quant::load_float_model(a.input);
  if (!model.ok()) return fail("quantize", model.status().message());
  const HParams& hp = model->hp;
  if (o.mode == quant::QuantMode::kInt8) {
    if (!a.calib_file.empty()) {
      auto seqs = quant::read_calibration_file(a.calib_file, hp.vocab_size);
      if (!seqs.ok()) return fail("quantize", seqs.status().message());
      o.calibration_sequences = std::move(*seqs);
      o.calibration_source = "file:" + a.calib_file;
    } else if (a.calib_task == "mqmtar") {
      auto seqs = quant::mqmtar_calibration_sequences(hp.vocab_size, a.calib_sequences, a.seed);
      if (!seqs.ok()) return fail("quantize", seqs.status().message());
      o.calibration_sequences = std::move(*seqs);
      o.calibration_source = "mqmtar: " + std::to_string(a.calib_sequences) + " training-distribution samples, seed " +
                             std::to_string(a.seed);
    } else {
      // No data given: uniform random tokens of the vocabulary.
      const int64_t len = a.calib_length > 0 ? a.calib_length : std::max<int64_t>(hp.block_size, 16);
      o.calibration_sequences = quant::random_calibration_sequences(hp.vocab_size, a.calib_sequences, len, a.seed);
      o.calibration_source = "random tokens: " + std::to_string(a.calib_sequences) + " x " + std::to_string(len) +
                             ", seed " + std::to_string(a.seed);
      if (!a.quiet) std::cerr << "note: no --calib file: calibrating on " << o.calibration_source << "\n";
    }
  }
  ProgressBar bar(!a.quiet);
  o.progress = [&bar](int64_t done, int64_t total) { bar.update(done, total); };
  auto q = quant::quantize_model(*model, o);
  if (!q.ok()) return fail("quantize", q.status().message());
  Status st = quant::write_quantized_gguf(*q, model->tokens, a.output, model->name);
  if (!st.ok()) return fail("quantize", st.message());
  if (!a.quiet) std::cout << q->report.text();
  std::cout << "wrote " << a.output << " (" << quant::quant_mode_name(o.mode) << ")\n";
  return 0;
}

Registration reg("quantize", "fold and quantize a float model: --int8 (cpu-int8), --weights-only, --f16",
                 [](CLI::App& sub) -> Action {
                   auto a = std::make_shared<QuantizeArgs>();
                   sub.add_option("input", a->input, "ckpt.pt, safetensors folder/file or float .gguf")->required();
                   sub.add_option("output", a->output, "output .gguf (written atomically)")->required();
                   sub.add_flag("--int8", a->int8, "int8 weights + calibrated activations (default)");
                   sub.add_flag("--weights-only", a->weights_only, "int8 weights, float activations (Vulkan)");
                   sub.add_flag("--f16", a->f16, "F16 matrices, not folded");
                   sub.add_option("--calib", a->calib_file, "calibration tokens: one sequence per line, ids");
                   sub.add_option("--calib-task", a->calib_task, "built-in calibration data: mqmtar (task generator)")
                       ->check(CLI::IsMember({"mqmtar"}));
                   sub.add_option("--calib-method", a->calib_method, "minmax | percentile")
                       ->check(CLI::IsMember({"minmax", "percentile"}));
                   sub.add_option("--percentile", a->percentile, "percentile of |activation| (percentile method)")
                       ->check(CLI::Range(50.0, 100.0));
                   sub.add_option("--calib-sequences", a->calib_sequences, "random calibration sequences (no --calib)")
                       ->check(CLI::PositiveNumber);
                   sub.add_option("--calib-length", a->calib_length, "their length (default: block size)");
                   sub.add_option("--seed", a->seed, "seed of the random calibration tokens");
                   sub.add_option("--precision", a->precision,
                                  "int8 | auto (per-tensor sensitivity search picks int16 tensors/sites) | int16")
                       ->check(CLI::IsMember({"int8", "auto", "int16"}));
                   sub.add_option("--precision-target", a->precision_target,
                                  "auto: simulated top-1 agreement (%) with float64 on the calibration data")
                       ->check(CLI::Range(0.0, 100.0));
                   sub.add_option("--int16", a->force_int16,
                                  "tensors/activation sites kept at 16 bits whatever --precision picks "
                                  "(e.g. blk.0.attn_k.weight,blk.1.act.o)")
                       ->delimiter(',');
                   sub.add_flag("--quiet", a->quiet, "no progress bar, no report");
                   return [a] { return run_quantize(*a); };
                 },
                 20);

}  // namespace
}  // namespace tessera::cli
