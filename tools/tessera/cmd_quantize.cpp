// tessera quantize IN OUT.gguf: fold, calibrate and quantize a float model (ckpt.pt, safetensors
// folder or float GGUF) for the int8 CPU backend (--int8), the Vulkan path (--weights-only) or
// as F16 (--f16). Prints a per-tensor SQNR report; writes atomically.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli_common.h"
#include "command.h"
#include "progress.h"
#include "quant/model_io.h"
#include "quant/quantize_model.h"

namespace tessera::cli {
namespace {

struct QuantizeArgs {
  std::string input, output, calib_file, calib_task, calib_method = "minmax", precision = "auto";
  std::string calib_format = "auto", report, format = "text";
  int threads = default_threads();
  double precision_target = 99.5;
  std::string value_cache = "int16";
  std::vector<std::string> force_int16;
  bool int8 = false, weights_only = false, f16 = false, quiet = false;
  double percentile = 99.99;
  int64_t calib_sequences = 16, calib_length = 0;
  uint64_t seed = 1;
};

// The report file: written whole to a temporary name, then renamed (nothing half-written on error).
Status write_report(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return io_error(path + ": cannot write the report");
    out << text;
    if (!out.flush()) {
      std::remove(tmp.c_str());
      return io_error(path + ": cannot write the report");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return io_error(path + ": cannot write the report");
  }
  return Status();
}

int run_quantize(const QuantizeArgs& a) {
  const int modes = int(a.int8) + int(a.weights_only) + int(a.f16);
  if (modes > 1) return usage_error("quantize", "choose one of --int8, --weights-only, --f16");
  if (a.threads < 1 || a.threads > 256)
    return usage_error("quantize", "--threads must be in 1..256, found " + std::to_string(a.threads));
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
  o.threads = a.threads;
  if (a.value_cache == "int8" && o.mode != quant::QuantMode::kInt8)
    return usage_error("quantize", "--value-cache int8 needs --int8 (the int8 value cache is the cpu-int8 runtime's)");
  o.value_cache_bits = a.value_cache == "int8" ? 8 : 16;
  const auto load_start = std::chrono::steady_clock::now();
  const double load_cpu_start = quant::process_cpu_seconds();
  auto model = quant::load_float_model(a.input);
  if (!model.ok()) return fail("quantize", model.status().message());
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  const double load_cpu = quant::process_cpu_seconds() - load_cpu_start;
  const HParams& hp = model->hp;
  if (o.mode == quant::QuantMode::kInt8) {
    if (!a.calib_file.empty()) {
      const auto format = a.calib_format == "tokens" ? quant::CalibrationFormat::kTokens
                          : a.calib_format == "text" ? quant::CalibrationFormat::kText
                                                     : quant::CalibrationFormat::kAuto;
      const int64_t len = a.calib_length > 0 ? a.calib_length
                                             : std::max<int64_t>(std::min<int64_t>(hp.block_size, 256), 16);
      auto calib = quant::read_calibration(a.calib_file, format, model->tokens, hp.vocab_size, len);
      if (!calib.ok()) return fail("quantize", calib.status().message());
      o.calibration_sequences = std::move(calib->sequences);
      o.calibration_source = std::move(calib->source);
    } else if (a.calib_task == "mqmtar") {
      auto seqs = quant::mqmtar_calibration_sequences(hp.vocab_size, a.calib_sequences, a.seed);
      if (!seqs.ok()) return fail("quantize", seqs.status().message());
      o.calibration_sequences = std::move(*seqs);
      o.calibration_source = "mqmtar: " + std::to_string(a.calib_sequences) + " training-distribution samples, seed " +
                             std::to_string(a.seed);
    } else {
      // No data given: uniform random tokens of the vocabulary.
      const int64_t len = a.calib_length > 0 ? a.calib_length
                                             : std::max<int64_t>(std::min<int64_t>(hp.block_size, 256), 16);
      if (Status st = quant::check_calibration_size(hp, a.calib_sequences, len); !st.ok())
        return fail("quantize", st.message() + " (choose a smaller --calib-length)");
      o.calibration_sequences = quant::random_calibration_sequences(hp.vocab_size, a.calib_sequences, len, a.seed);
      o.calibration_source = "random tokens: " + std::to_string(a.calib_sequences) + " x " + std::to_string(len) +
                             ", seed " + std::to_string(a.seed);
      if (!a.quiet) std::cerr << "note: no --calib file: calibrating on " << o.calibration_source << "\n";
    }
  }
  PhaseProgress progress(!a.quiet);
  o.progress = [&progress](const char* phase, int64_t done, int64_t total) {
    progress.update(phase, done, total,
                    std::string(phase) == "calibrating" ? "tokens"
                    : std::string(phase) == "searching" ? "passes"
                                                        : "layers");
  };
  const std::vector<std::string> tokenizer = model->tokens;
  const std::string model_name = model->name;
  auto q = quant::quantize_model(std::move(*model), o);
  if (!q.ok()) return fail("quantize", q.status().message());
  progress.end_line();
  if (!a.quiet) std::cerr << "writing " << a.output << "\n";
  const auto write_start = std::chrono::steady_clock::now();
  const double write_cpu_start = quant::process_cpu_seconds();
  Status st = quant::write_quantized_gguf(*q, tokenizer, a.output, model_name);
  if (!st.ok()) return fail("quantize", st.message());
  q->report.phase_seconds.insert(q->report.phase_seconds.begin(), {"load", load_seconds});
  q->report.phase_seconds.push_back(
      {"write", std::chrono::duration<double>(std::chrono::steady_clock::now() - write_start).count()});
  q->report.phase_cpu_seconds.insert(q->report.phase_cpu_seconds.begin(), {"load", load_cpu});
  q->report.phase_cpu_seconds.push_back({"write", quant::process_cpu_seconds() - write_cpu_start});
  if (!a.report.empty()) {
    st = write_report(a.report, q->report.json());
    if (!st.ok()) {
      std::remove(a.output.c_str());  // all or nothing: no model without the report asked for
      return fail("quantize", st.message());
    }
  }
  if (a.format == "json") std::cout << q->report.json();
  else if (!a.quiet) std::cout << q->report.text();
  if (a.format != "json") std::cout << "wrote " << a.output << " (" << quant::quant_mode_name(o.mode) << ")\n";
  return 0;
}

Registration reg(
    "quantize", "fold and quantize a float model: --int8 (cpu-int8), --weights-only, --f16",
    [](CLI::App& sub) -> Action {
      auto a = std::make_shared<QuantizeArgs>();
      sub.add_option("input", a->input, "ckpt.pt, safetensors folder/file or float .gguf")->required();
      sub.add_option("output", a->output, "output .gguf (written atomically)")->required();
      sub.add_flag("--int8", a->int8, "int8 weights + calibrated activations (default)");
      sub.add_flag("--weights-only", a->weights_only, "int8 weights, float activations (Vulkan)");
      sub.add_flag("--f16", a->f16, "F16 matrices, not folded");
      sub.add_option("--calib", a->calib_file,
                     "calibration data: token ids (one sequence per line) or text, which the model's "
                     "tokenizer encodes and cuts into --calib-length sequences");
      sub.add_option("--calib-format", a->calib_format,
                     "auto (ids when every word is an integer, else text) | tokens | text")
          ->check(CLI::IsMember({"auto", "tokens", "text"}))
          ->capture_default_str();
      sub.add_option("--calib-task", a->calib_task, "built-in calibration data: mqmtar (task generator)")
          ->check(CLI::IsMember({"mqmtar"}));
      sub.add_option("--calib-method", a->calib_method, "minmax | percentile")
          ->check(CLI::IsMember({"minmax", "percentile"}));
      sub.add_option("--percentile", a->percentile, "percentile of |activation| (percentile method)")
          ->check(CLI::Range(50.0, 100.0));
      sub.add_option("--calib-sequences", a->calib_sequences, "random calibration sequences (no --calib)")
          ->check(CLI::PositiveNumber);
      sub.add_option("--calib-length", a->calib_length,
                     "length of the random or text calibration sequences (default: block size, 16..256)");
      sub.add_option("--seed", a->seed, "seed of the random calibration tokens");
      sub.add_option("--precision", a->precision,
                     "int8 | auto (per-tensor sensitivity search picks int16 tensors/sites) | int16")
          ->check(CLI::IsMember({"int8", "auto", "int16"}));
      sub.add_option("--value-cache", a->value_cache,
                     "int16 | int8: the attention's unit values as Q15 int16 (default) or Q7 int8 "
                     "(half the value cache, e.g. for microcontrollers; docs/quantization.md)")
          ->check(CLI::IsMember({"int16", "int8"}));
      sub.add_option("--precision-target", a->precision_target,
                     "auto: simulated top-1 agreement (%) with float64 on the calibration data")
          ->check(CLI::Range(0.0, 100.0));
      sub.add_option("--int16", a->force_int16,
                     "tensors/activation sites kept at 16 bits whatever --precision picks "
                     "(e.g. blk.0.attn_k.weight,blk.1.act.o)")
          ->delimiter(',');
      sub.add_option("--threads", a->threads,
                     "CPU threads for calibration and the precision search, 1..256 (default: the CPUs this "
                     "process may use; the output file does not depend on it)")
          ->capture_default_str();
      sub.add_option("--report", a->report,
                     "write a JSON report: per tensor precision, SQNR, max error; per activation site "
                     "clip, scale, clipped fraction; simulated agreement");
      sub.add_option("--format", a->format, "text | json: the report printed on stdout")
          ->check(CLI::IsMember({"text", "json"}))
          ->capture_default_str();
      sub.add_flag("--quiet", a->quiet, "no progress, no report on stdout");
      return [a] { return run_quantize(*a); };
    },
    20);

}  // namespace
}  // namespace tessera::cli
