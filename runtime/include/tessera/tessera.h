// Tessera public C++ API: load a Memory Mosaics model, run sequences, sample.
//
//   auto model = tessera::Model::load("model.gguf", {});      // Result<std::shared_ptr<Model>>
//   auto session = tessera::Session::create(*model, {});      // Result<std::unique_ptr<Session>>
//   (*session)->prefill(prompt);  int tok = sampler.sample((*session)->logits());
//   (*session)->decode(tok); ...
//
// Nothing here throws; every fallible call returns Status or Result<T>.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "tessera/attention.h"
#include "tessera/status.h"

namespace tessera {

enum class BackendKind {
  kAuto,     // Vulkan when a usable device exists, else CPU f32
  kCpu,      // float32 CPU reference runtime
  kVulkan,   // Vulkan compute
  kCpuInt8,  // integer-only CPU runtime (needs a model quantized with `tessera quantize --int8`)
};
const char* backend_kind_name(BackendKind k);

// The Vulkan devices this process can see, one description each ("0: NVIDIA H100 (discrete GPU,
// subgroup 32)" + a line of optional features); the index selects one in LoadOptions. kUnavailable
// (with the reason) when the build has no Vulkan or no loader/driver exists: a normal answer.
Result<std::vector<std::string>> list_vulkan_devices();
Result<BackendKind> parse_backend_kind(const std::string& s);  // "auto", "cpu", "vulkan", "cpu-int8"

// The cpu-int8 matrix kernel (all give bit-identical results; kAuto picks the fastest available).
enum class Int8Kernel { kAuto, kPortable, kAvx2, kAvx512Vnni, kNeonDot };

// The most CPU threads a model may use (LoadOptions.threads).
inline constexpr int kMaxThreads = 256;

struct LoadOptions {
  BackendKind backend = BackendKind::kCpu;
  int threads = 1;                  // CPU backends: 1..kMaxThreads
  int vulkan_device_index = -1;     // -1: pick the best device
  std::string vulkan_device_name;   // substring match; overrides the index when set
  bool vulkan_force_staging = false;
  std::string vulkan_pipeline_cache;  // file path; empty: no disk cache
  bool vulkan_validation = false;     // enable VK_LAYER_KHRONOS_validation
  // Device-limits profile (docs/vulkan.md): "" or "full" = the device as it is; "android-baseline-2022"
  // or "raspberry-pi" = plan within that profile's limits and features. A device that does not meet
  // the profile fails the load (kUnsupported), also under BackendKind::kAuto. CPU backends ignore it.
  std::string vulkan_profile;
  Int8Kernel int8_kernel = Int8Kernel::kAuto;  // cpu-int8 only; an unavailable kernel fails the load
  // Recompute the tensor-content checksum that convert/quantize record and fail the load on a
  // mismatch (kCorruptFile) or when the file records none (kNotFound). Off: the checksum is not
  // read (loading stays a few page faults, not a pass over every byte).
  bool verify_checksum = false;
};

struct ModelInfo {
  int64_t vocab_size, n_embd, n_head, n_layer, block_size, pmem_size, pmem_count;
  AttentionMethod method;
  int mask_offset;
  std::string backend_name;  // the backend that actually runs
  std::string fallback_reason;  // why kAuto did not pick Vulkan (empty otherwise)
  std::vector<std::string> tokenizer_tokens;  // empty when the GGUF has no tokenizer
};

class ModelImpl;
class Model {
 public:
  static Result<std::shared_ptr<Model>> load(const std::string& path, const LoadOptions& options);
  // `bytes` must stay alive as long as the model (no copy is made).
  static Result<std::shared_ptr<Model>> load_from_memory(std::span<const std::byte> bytes,
                                                         const LoadOptions& options);
  ~Model();
  const ModelInfo& info() const;
  // Bytes SessionOptions::arena must hold for `max_tokens` positions (0: the backend takes no arena);
  // the same errors as Session::create for a capacity the backend or the machine cannot hold.
  Result<size_t> session_arena_bytes(int64_t max_tokens) const;
  ModelImpl& impl() { return *impl_; }
  explicit Model(std::unique_ptr<ModelImpl> impl);  // internal: use load()

 private:
  std::unique_ptr<ModelImpl> impl_;
};

struct SessionOptions {
  // Cache capacity; 0: the model's block_size. A capacity whose state would not fit the backend's
  // position limit or this machine's memory fails create() with kResourceExhausted (the numbers in
  // the message) before anything is allocated.
  int64_t max_tokens = 0;
  // cpu-int8: caller-supplied memory for the whole sequence state (caches, scratch, logits), at least
  // Model::session_arena_bytes(max_tokens) bytes, any alignment; it must outlive the session.
  // Empty: the session allocates it once at create(). Either way nothing is allocated per token.
  std::span<std::byte> arena;
};

class SessionImpl;
class Session {
 public:
  static Result<std::unique_ptr<Session>> create(Model& model, const SessionOptions& options);
  ~Session();

  // Runs the prompt tokens; afterwards logits() holds the last position's next-token logits.
  // When `all_logits` is non-empty it must hold tokens.size() × vocab floats and receives every row.
  Status prefill(std::span<const int32_t> tokens, std::span<float> all_logits = {});
  // One token (cached decode).
  Status decode(int32_t token);
  std::span<const float> logits() const;  // V floats of the last fed position
  int64_t position() const;
  int64_t capacity() const;
  void reset();

 private:
  explicit Session(std::unique_ptr<SessionImpl> impl);
  std::unique_ptr<SessionImpl> impl_;
};

struct SamplingParams {
  float temperature = 0.0f;  // >= 0 and finite; 0: greedy (argmax, lowest index on ties)
  float top_p = 1.0f;        // nucleus, in (0, 1]; 1 disables
  int top_k = 0;             // >= 0; 0 disables
  uint64_t seed = 0;
  // kInvalidArgument naming the first field out of its range (NaN included).
  Status validate() const;
};

class Sampler {
 public:
  // Validates the parameters (SamplingParams::validate).
  static Result<Sampler> create(const SamplingParams& params);
  // Unchecked: with parameters that fail validate(), sample() returns -1.
  explicit Sampler(const SamplingParams& params);
  // Allocation-free after the first call for a given vocabulary size. -1 for empty logits or
  // invalid parameters.
  int32_t sample(std::span<const float> logits);

 private:
  SamplingParams params_;
  bool valid_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> scratch_;
  std::vector<double> weights_;
};

}  // namespace tessera
