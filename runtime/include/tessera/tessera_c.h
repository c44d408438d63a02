/** @file
 * Tessera C API: a thin, stable ABI over the C++ API for C programs and other languages' FFIs (C99).
 * Every function that can fail returns a tessera_status (0 = ok); tessera_last_error() returns the
 * message of the last failure on the calling thread. Objects are freed with their *_free function. */
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
  TESSERA_INTERNAL = 8           /**< a bug in Tessera */
} tessera_status;

/** Which runtime executes a model. */
typedef enum tessera_backend {
  TESSERA_BACKEND_AUTO = 0,     /**< Vulkan when a usable device exists, else CPU float32 */
  TESSERA_BACKEND_CPU = 1,      /**< float32 CPU reference runtime */
  TESSERA_BACKEND_VULKAN = 2,   /**< Vulkan compute */
  TESSERA_BACKEND_CPU_INT8 = 3  /**< integer-only CPU runtime (int8 models) */
} tessera_backend;

/** How tessera_model_load runs a model; start from tessera_default_load_options(). */
typedef struct tessera_load_options {
  tessera_backend backend;   /**< the runtime */
  int threads;               /**< CPU backends: worker threads, >= 1 */
  int vulkan_device_index;   /**< -1: best device */
} tessera_load_options;

/** A loaded model (tessera::Model). */
typedef struct tessera_model tessera_model;
/** A sequence being run on a model (tessera::Session). */
typedef struct tessera_session tessera_session;

/** Defaults: TESSERA_BACKEND_AUTO, 1 thread, best device. */
TESSERA_API tessera_load_options tessera_default_load_options(void);
/** The message of the last failure on the calling thread ("" if none); valid until the next call. */
TESSERA_API const char* tessera_last_error(void);

/** Loads and validates the GGUF at `path` into `*out` (NULL options: the defaults). */
TESSERA_API tessera_status tessera_model_load(const char* path, const tessera_load_options* options, tessera_model** out);
/** Frees a model (NULL is allowed); its sessions must be freed first. */
TESSERA_API void tessera_model_free(tessera_model* model);
/** The vocabulary size: token ids are 0 .. vocab_size-1. */
TESSERA_API int64_t tessera_model_vocab_size(const tessera_model* model);
/** The backend that runs the model ("cpu", "vulkan", "cpu-int8"), owned by the model. */
TESSERA_API const char* tessera_model_backend_name(const tessera_model* model);

/** A new, empty sequence on `model` in `*out`; max_tokens = 0: the model's training context. */
TESSERA_API tessera_status tessera_session_create(tessera_model* model, int64_t max_tokens, tessera_session** out);
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

/** Greedy choice over `n` logits: the index of the largest (lowest index on ties). */
TESSERA_API int32_t tessera_argmax(const float* logits, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_C_H_ */
