/** @file
 * Tessera C API: a thin, stable ABI over the C++ API for C programs and other languages' FFIs (C99).
 * Every function that can fail returns a tessera_status (0 = ok); tessera_last_error() returns the
 * message of the last failure on the calling thread. Objects are freed with their *_free function.
 *
 * Threads: a tessera_model may be shared by any number of threads (each with its own sessions); a
 * tessera_session and a tessera_sampler belong to one thread at a time. */
#ifndef TESSERA_C_H_
#define TESSERA_C_H_

#include <stddef.h>
#include <stdint.h>

#include "tessera/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The result of a call (the C++ API's tessera::StatusCode). */
typedef enum tessera_status {
  TESSERA_OK = 0,                /**< success */
  TESSERA_INVALID_ARGUMENT = 1,  /**< the caller passed something wrong (shape, token, option) */
  TESSERA_NOT_FOUND = 2,         /**< a file, tensor or key is missing */
  TESSERA_IO_ERROR = 3,          /**< the OS refused a read/write */
  TESSERA_CORRUPT_FILE = 4,      /**< a file's bytes contradict its own format */
  TESSERA_UNSUPPORTED = 5,       /**< valid input this build or device cannot run */
  TESSERA_UNAVAILABLE = 6,       /**< a device/backend is not present (a normal outcome) */
  TESSERA_OUT_OF_RANGE = 7,      /**< a value outside its allowed range (e.g. context full) */
  TESSERA_INTERNAL = 8,          /**< a bug in Tessera */
  TESSERA_RESOURCE_EXHAUSTED = 9 /**< a request larger than the model, backend or machine can hold */
} tessera_status;

/** Which runtime executes a model. */
typedef enum tessera_backend {
  TESSERA_BACKEND_AUTO = 0,    /**< Vulkan when a usable device exists, else CPU float32 */
  TESSERA_BACKEND_CPU = 1,     /**< float32 CPU reference runtime */
  TESSERA_BACKEND_VULKAN = 2,  /**< Vulkan compute */
  TESSERA_BACKEND_CPU_INT8 = 3 /**< integer-only CPU runtime (int8 models) */
} tessera_backend;

/** Option structs begin with their own size so that the library can grow them without breaking callers
 * built against an older header: always start from the tessera_default_* function, which fills it. */
typedef struct tessera_load_options {
  size_t struct_size;             /**< sizeof(tessera_load_options), set by tessera_default_load_options() */
  tessera_backend backend;        /**< the runtime */
  int threads;                    /**< CPU backends: worker threads, 1..256 */
  int vulkan_device_index;        /**< -1: best device (see tessera_device_count / tessera_device_name) */
  const char* vulkan_device_name; /**< NULL or a substring of a device's name; overrides the index */
  /** Device-limits profile: NULL or "full" (the device as it is), "android-baseline-2022", "raspberry-pi". */
  const char* vulkan_profile;
  /** Key/value cache elements: NULL or "auto" (F16 where the device has 16-bit storage), "f16", "f32". */
  const char* vulkan_kv_cache;
} tessera_load_options;

/** How tessera_session_create_with_options sizes a sequence; start from tessera_default_session_options(). */
typedef struct tessera_session_options {
  size_t struct_size; /**< sizeof(tessera_session_options), set by tessera_default_session_options() */
  int64_t max_tokens; /**< cache capacity; 0: the model's training context */
  /** cpu-int8: caller-owned memory for the whole sequence state, at least
   * tessera_model_session_arena_bytes(model, max_tokens) bytes, any alignment, outliving the session.
   * NULL: the session allocates it once at creation. Other backends take no arena (size 0). */
  void* arena;
  size_t arena_size; /**< bytes at `arena` */
} tessera_session_options;

/** How a tessera_sampler picks a token; start from tessera_default_sampler_params(). */
typedef struct tessera_sampler_params {
  size_t struct_size; /**< sizeof(tessera_sampler_params), set by tessera_default_sampler_params() */
  float temperature;  /**< >= 0 and finite; 0: greedy (argmax, lowest index on ties) */
  float top_p;        /**< nucleus, in (0, 1]; 1 disables */
  int top_k;          /**< >= 0; 0 disables */
  uint64_t seed;      /**< the random generator's seed (same seed, same tokens) */
} tessera_sampler_params;

/** A loaded model (tessera::Model). */
typedef struct tessera_model tessera_model;
/** A sequence being run on a model (tessera::Session). */
typedef struct tessera_session tessera_session;
/** A token sampler with its own random stream (tessera::Sampler). */
typedef struct tessera_sampler tessera_sampler;

/** Defaults: TESSERA_BACKEND_AUTO, 1 thread, best device, no profile. */
TESSERA_API tessera_load_options tessera_default_load_options(void);
/** Defaults: the model's training context, no arena. */
TESSERA_API tessera_session_options tessera_default_session_options(void);
/** Defaults: greedy. */
TESSERA_API tessera_sampler_params tessera_default_sampler_params(void);
/** The message of the last failure on the calling thread ("" if none); valid until the next call. */
TESSERA_API const char* tessera_last_error(void);

/** The number of Vulkan devices this process can use in `*count` (0 when there is no Vulkan loader,
 * driver or device: not an error). */
TESSERA_API tessera_status tessera_device_count(int* count);
/** Device `index`'s description ("0: NVIDIA H100 (discrete GPU, subgroup 32)" + its optional
 * features), valid for the life of the process; NULL for an index out of range. */
TESSERA_API const char* tessera_device_name(int index);

/** Loads and validates the GGUF at `path` into `*out` (NULL options: the defaults). */
TESSERA_API tessera_status tessera_model_load(const char* path, const tessera_load_options* options,
                                              tessera_model** out);
/** Loads a GGUF image in memory (an Android asset, a flash region): no copy is made, so `data` must stay
 * valid and unchanged until tessera_model_free. */
TESSERA_API tessera_status tessera_model_load_from_memory(const void* data, size_t size,
                                                          const tessera_load_options* options, tessera_model** out);
/** Frees a model (NULL is allowed); its sessions must be freed first. */
TESSERA_API void tessera_model_free(tessera_model* model);
/** The vocabulary size: token ids are 0 .. vocab_size-1. */
TESSERA_API int64_t tessera_model_vocab_size(const tessera_model* model);
/** The backend that runs the model ("cpu", "vulkan (...)", "cpu-int8 (...)"), owned by the model. */
TESSERA_API const char* tessera_model_backend_name(const tessera_model* model);
/** Bytes of tessera_session_options.arena a session of max_tokens positions needs, in `*bytes` (0: the
 * backend takes no arena); TESSERA_RESOURCE_EXHAUSTED for a capacity that cannot fit. */
TESSERA_API tessera_status tessera_model_session_arena_bytes(const tessera_model* model, int64_t max_tokens,
                                                             size_t* bytes);

/** Encodes `length` bytes of `text` with the model's tokenizer (GGUF tokenizer.ggml.tokens;
 * TESSERA_UNSUPPORTED when the file has none) into tokens[0 .. capacity). `*n_tokens` receives how many
 * the text needs, also when that exceeds capacity (then TESSERA_OUT_OF_RANGE and nothing is written). */
TESSERA_API tessera_status tessera_tokenize(const tessera_model* model, const char* text, size_t length,
                                            int32_t* tokens, size_t capacity, size_t* n_tokens);
/** The bytes of one token (not NUL-terminated: `*length` receives their count); NULL for an id out of
 * range. Valid while the model lives. */
TESSERA_API const char* tessera_token_text(const tessera_model* model, int32_t token, size_t* length);

/** A new, empty sequence on `model` in `*out`; max_tokens = 0: the model's training context. */
TESSERA_API tessera_status tessera_session_create(tessera_model* model, int64_t max_tokens, tessera_session** out);
/** A new, empty sequence on `model` in `*out`, sized by `options` (NULL: the defaults). */
TESSERA_API tessera_status tessera_session_create_with_options(tessera_model* model,
                                                               const tessera_session_options* options,
                                                               tessera_session** out);
/** Frees a session (NULL is allowed). */
TESSERA_API void tessera_session_free(tessera_session* session);
/** Runs `n` prompt tokens; afterwards tessera_session_logits() holds the next-token logits. */
TESSERA_API tessera_status tessera_session_prefill(tessera_session* session, const int32_t* tokens, size_t n);
/** Feeds one token (cached decode); TESSERA_OUT_OF_RANGE when the session is full. */
TESSERA_API tessera_status tessera_session_decode(tessera_session* session, int32_t token);
/** The last position's next-token logits (vocab_size floats), valid until the next call on the session. */
TESSERA_API const float* tessera_session_logits(const tessera_session* session);
/** Empties the sequence (position 0), keeping its memory. */
TESSERA_API void tessera_session_reset(tessera_session* session);

/** Greedy choice over `n` logits: the index of the largest (lowest index on ties); -1 for none. */
TESSERA_API int32_t tessera_argmax(const float* logits, int64_t n);

/** A sampler in `*out` (NULL params: greedy): temperature / top-k / top-p sampling with its own random
 * stream; TESSERA_INVALID_ARGUMENT naming the first parameter out of its range. */
TESSERA_API tessera_status tessera_sampler_create(const tessera_sampler_params* params, tessera_sampler** out);
/** Picks a token from `n` logits into `*token`; allocation-free after the first call for a vocabulary
 * size. Use one sampler from one thread at a time. */
TESSERA_API tessera_status tessera_sampler_sample(tessera_sampler* sampler, const float* logits, int64_t n,
                                                  int32_t* token);
/** Frees a sampler (NULL is allowed). */
TESSERA_API void tessera_sampler_free(tessera_sampler* sampler);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_C_H_ */
