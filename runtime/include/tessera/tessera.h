/// @file
/// Tessera public C++ API: load a Memory Mosaics model, run sequences, sample.
///
///     auto model = tessera::Model::load("model.gguf", {});      // Result<std::shared_ptr<Model>>
///     auto session = tessera::Session::create(**model, {});     // Result<std::unique_ptr<Session>>
///     (*session)->prefill(prompt);  int tok = sampler.sample((*session)->logits());
///     (*session)->decode(tok); ...
///
/// Nothing here throws; every fallible call returns Status or Result<T>. C++17 or later.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tessera/attention.h"
#include "tessera/export.h"
#include "tessera/span.h"
#include "tessera/status.h"

namespace tessera {

/// Which runtime executes a model.
enum class BackendKind {
  kAuto,     ///< Vulkan when a usable device exists, else CPU f32
  kCpu,      ///< float32 CPU reference runtime
  kVulkan,   ///< Vulkan compute
  kCpuInt8,  ///< integer-only CPU runtime (needs a model quantized with `tessera quantize --int8`)
};
/// The name of `k` as the CLI spells it ("auto", "cpu", "vulkan", "cpu-int8"); never null.
TESSERA_API const char* backend_kind_name(BackendKind k);
/// Parses "auto", "cpu", "vulkan", "cpu-int8"; kInvalidArgument otherwise.
TESSERA_API Result<BackendKind> parse_backend_kind(const std::string& s);

/// The Vulkan devices this process can see, one description each ("0: NVIDIA H100 (discrete GPU,
/// subgroup 32)" + a line of optional features); the index selects one in LoadOptions. kUnavailable
/// (with the reason) when the build has no Vulkan or no loader/driver exists: a normal answer.
TESSERA_API Result<std::vector<std::string>> list_vulkan_devices();

/// The most CPU threads a model may use (LoadOptions::threads).
inline constexpr int kMaxThreads = 256;

/// The cpu-int8 matrix kernel (all give bit-identical results; kAuto picks the fastest available).
enum class Int8Kernel {
  kAuto,        ///< the fastest this CPU runs
  kPortable,    ///< plain C++
  kAvx2,        ///< x86-64 AVX2
  kAvx512Vnni,  ///< x86-64 AVX-512 VNNI
  kNeonDot,     ///< Arm NEON dot product
};

/// How Model::load runs a model.
struct LoadOptions {
  BackendKind backend = BackendKind::kCpu;  ///< the runtime (kAuto: Vulkan if usable, else CPU)
  int threads = 1;                          ///< CPU backends: worker threads, 1..kMaxThreads
  int vulkan_device_index = -1;             ///< -1: pick the best device
  std::string vulkan_device_name;           ///< substring match; overrides the index when set
  bool vulkan_force_staging = false;        ///< upload through a staging buffer even on host-visible memory
  std::string vulkan_pipeline_cache;        ///< file path; empty: no disk cache
  bool vulkan_validation = false;           ///< enable VK_LAYER_KHRONOS_validation
  /// Device-limits profile (docs/vulkan.md): "" or "full" = the device as it is; "android-baseline-2022"
  /// or "raspberry-pi" = plan within that profile's limits and features. A device that does not meet
  /// the profile fails the load (kUnsupported), also under BackendKind::kAuto. CPU backends ignore it.
  std::string vulkan_profile;
  /// Element type of the key/value caches (docs/vulkan.md): "" or "auto" = F16 where the device (under the
  /// profile) has 16-bit storage, else F32; "f16" (half the cache memory; docs/numerics.md states the
  /// error) or "f32". Anything else fails the load (kInvalidArgument). CPU backends ignore it.
  std::string vulkan_kv_cache;
  Int8Kernel int8_kernel = Int8Kernel::kAuto;  ///< cpu-int8 only; an unavailable kernel fails the load
  /// Recompute the tensor-content checksum that convert/quantize record and fail the load on a
  /// mismatch (kCorruptFile) or when the file records none (kNotFound). Off: the checksum is not
  /// read (loading stays a few page faults, not a pass over every byte).
  bool verify_checksum = false;
};

/// What a loaded model is and where it runs.
struct ModelInfo {
  int64_t vocab_size;           ///< token ids are 0 .. vocab_size-1
  int64_t n_embd;               ///< embedding width C
  int64_t n_head;               ///< heads per layer
  int64_t n_layer;              ///< layers
  int64_t block_size;           ///< the training context length (the cached runtime goes beyond it)
  int64_t pmem_size;            ///< persistent-memory slots per head
  int64_t pmem_count;           ///< persistent memories (the authors' pmem_count hyperparameter)
  AttentionMethod method;       ///< the attention transform
  int mask_offset;              ///< query t sees keys j <= t - mask_offset (1, or 2 for the seed EFT forms)
  std::string backend_name;     ///< the backend that actually runs
  std::string fallback_reason;  ///< why kAuto did not pick Vulkan (empty otherwise)
  std::vector<std::string> tokenizer_tokens;  ///< empty when the GGUF has no tokenizer
};

class ModelImpl;
/// A loaded, validated model on one backend. Immutable once loaded: sessions on many threads may share it.
class TESSERA_API Model {
 public:
  /// Loads and validates the GGUF file at `path`.
  static Result<std::shared_ptr<Model>> load(const std::string& path, const LoadOptions& options);
  /// Loads a GGUF held in memory; `bytes` must stay alive as long as the model (no copy is made).
  static Result<std::shared_ptr<Model>> load_from_memory(Span<const std::byte> bytes, const LoadOptions& options);
  ~Model();
  /// Hyperparameters, attention method, backend and tokenizer tokens.
  const ModelInfo& info() const;
  /// Bytes SessionOptions::arena must hold for `max_tokens` positions (0: the backend takes no arena);
  /// the same errors as Session::create for a capacity the backend or the machine cannot hold.
  Result<size_t> session_arena_bytes(int64_t max_tokens) const;
  /// Internal: the implementation, for Tessera's own tools.
  ModelImpl& impl() { return *impl_; }
  /// Internal: use load().
  explicit Model(std::unique_ptr<ModelImpl> impl);

 private:
  std::unique_ptr<ModelImpl> impl_;
};

/// How Session::create sizes a sequence.
struct SessionOptions {
  /// Cache capacity; 0: the model's block_size. A capacity whose state would not fit the backend's
  /// position limit or this machine's memory fails create() with kResourceExhausted (the numbers in
  /// the message) before anything is allocated.
  int64_t max_tokens = 0;
  /// cpu-int8: caller-supplied memory for the whole sequence state (caches, scratch, logits), at least
  /// Model::session_arena_bytes(max_tokens) bytes, any alignment; it must outlive the session.
  /// Empty: the session allocates it once at create(). Either way nothing is allocated per token.
  Span<std::byte> arena;
};

class SessionImpl;
/// One sequence being run on a Model (its caches and logits). Use one session from one thread at a time.
class TESSERA_API Session {
 public:
  /// A new, empty sequence on `model`, which must outlive it.
  static Result<std::unique_ptr<Session>> create(Model& model, const SessionOptions& options);
  ~Session();

  /// Runs the prompt tokens; afterwards logits() holds the last position's next-token logits.
  /// When `all_logits` is non-empty it must hold tokens.size() × vocab floats and receives every row.
  Status prefill(Span<const int32_t> tokens, Span<float> all_logits = {});
  /// Feeds one token (cached decode); kOutOfRange when the session is full.
  Status decode(int32_t token);
  /// vocab_size floats: the next-token logits of the last fed position, valid until the next call.
  Span<const float> logits() const;
  /// Tokens fed so far.
  int64_t position() const;
  /// Tokens the session can hold (SessionOptions::max_tokens).
  int64_t capacity() const;
  /// Empties the sequence (position 0), keeping its memory.
  void reset();

 private:
  explicit Session(std::unique_ptr<SessionImpl> impl);
  std::unique_ptr<SessionImpl> impl_;
};

/// How Sampler picks a token.
struct SamplingParams {
  float temperature = 0.0f;  ///< >= 0 and finite; 0: greedy (argmax, lowest index on ties)
  float top_p = 1.0f;        ///< nucleus, in (0, 1]; 1 disables
  int top_k = 0;             ///< >= 0; 0 disables
  uint64_t seed = 0;         ///< the random generator's seed (same seed, same tokens)
  /// kInvalidArgument naming the first field out of its range (NaN included).
  Status validate() const;
};

/// Picks the next token from logits: greedy, or temperature / top-k / top-p sampling.
class TESSERA_API Sampler {
 public:
  /// A sampler with its own random generator seeded from `params`, validated (SamplingParams::validate).
  static Result<Sampler> create(const SamplingParams& params);
  /// Unchecked: with parameters that fail validate(), sample() returns -1.
  explicit Sampler(const SamplingParams& params);
  /// The chosen token id; allocation-free after the first call for a given vocabulary size. -1 for
  /// empty logits or invalid parameters.
  int32_t sample(Span<const float> logits);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> scratch_;
  std::vector<double> weights_;
  bool valid_;
};

}  // namespace tessera
