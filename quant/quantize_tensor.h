// Per-output-channel symmetric int8 quantization (TFLite convention: real = scale·q, q ∈ [-127, 127],
// zero point 0, one F32 scale per row) and its error report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::quant {

struct QuantizedRows {
  std::vector<int8_t> q;     // rows × cols
  std::vector<float> scale;  // rows: max|w_r| / 127 (1 for an all-zero row)
};

// q = round(w / s) with s the stored float32 scale, so scale·q is exactly what a reader dequantises.
QuantizedRows quantize_rows(const double* w, int64_t rows, int64_t cols);
QuantizedRows quantize_rows(const float* w, int64_t rows, int64_t cols);

// int16 rows (the wide tensors the precision search picks, quant/precision.h): q ∈ [-32512, 32512],
// scale = max|w_r| / 32512. 32512 = 127·256 is the largest grid on which every q splits exactly into
// q = 255·hi + lo with hi, lo ∈ [-127, 127], so the runtime multiplies it with the int8 kernels
// (two planes, docs/numerics.md "Wide tensors").
inline constexpr int32_t kInt16WeightMax = 32512;
struct QuantizedRows16 {
  std::vector<int16_t> q;
  std::vector<float> scale;
};
QuantizedRows16 quantize_rows16(const double* w, int64_t rows, int64_t cols);
QuantizedRows16 quantize_rows16(const float* w, int64_t rows, int64_t cols);

// w ← scale·q in place, at 8 or 16 bits: exactly the values quantize_rows / quantize_rows16 store.
void fake_quantize_rows(double* w, int64_t rows, int64_t cols, int bits);
// The same values rounded to float32 into `out` (the batched float32 simulation, quant/batched_forward.h).
void fake_quantize_rows_f32(const double* w, int64_t rows, int64_t cols, int bits, float* out);
void fake_quantize_rows_f32(const float* w, int64_t rows, int64_t cols, int bits, float* out);

// clamp(nearbyint(v), -qmax, qmax) for finite v and qmax < 2^50, without a libm call per value (baseline
// x86-64 has no rounding instruction): adding and subtracting 1.5·2^52 rounds to nearest even exactly as
// nearbyint does in the default rounding mode.
inline double round_clamped(double v, double qmax) {
  constexpr double kMagic = 6755399441055744.0;  // 1.5 · 2^52
  const double c = v < -qmax - 1 ? -qmax - 1 : (v > qmax + 1 ? qmax + 1 : v);
  const double r = (c + kMagic) - kMagic;
  return r < -qmax ? -qmax : (r > qmax ? qmax : r);
}

struct TensorReport {
  std::string name;
  int64_t numel = 0;
  double sqnr_db = 0;              // 10·log10(Σw² / Σ(w - ŵ)²); +inf when exact
  double max_abs_error = 0;        // max |w - ŵ|
  double signal = 0, noise = 0;    // Σw², Σ(w - ŵ)² (for the overall figure)
  const char* precision = "int8";  // "int8", "int16" or "f16" as stored
};

// w: the float32 weights the file was made from (double inputs for tests).
TensorReport measure_int8(const std::string& name, const double* w, const QuantizedRows& q, int64_t rows, int64_t cols);
TensorReport measure_int8(const std::string& name, const float* w, const QuantizedRows& q, int64_t rows, int64_t cols);
TensorReport measure_int16(const std::string& name, const float* w, const QuantizedRows16& q, int64_t rows,
                           int64_t cols);
TensorReport measure_f16(const std::string& name, const float* w, const std::vector<uint16_t>& h);

}  // namespace tessera::quant
