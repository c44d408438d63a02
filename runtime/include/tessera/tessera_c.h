/* Tessera C API: a thin, stable ABI over the C++ API for C programs and other languages' FFIs.
 * Every function that can fail returns a tessera_status (0 = ok); tessera_last_error() returns the
 * message of the last failure on the calling thread. Objects are freed with their *_free function. */
#ifndef TESSERA_C_H_
#define TESSERA_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tessera_status {
  TESSERA_OK = 0,
  TESSERA_INVALID_ARGUMENT = 1,
  TESSERA_NOT_FOUND = 2,
  TESSERA_IO_ERROR = 3,
  TESSERA_CORRUPT_FILE = 4,
  TESSERA_UNSUPPORTED = 5,
  TESSERA_UNAVAILABLE = 6,
  TESSERA_OUT_OF_RANGE = 7,
  TESSERA_INTERNAL = 8
} tessera_status;

typedef enum tessera_backend {
  TESSERA_BACKEND_AUTO = 0,
  TESSERA_BACKEND_CPU = 1,
  TESSERA_BACKEND_VULKAN = 2,
  TESSERA_BACKEND_CPU_INT8 = 3
} tessera_backend;

typedef struct tessera_load_options {
  tessera_backend backend;
  int threads;               /* >= 1 */
  int vulkan_device_index;   /* -1: best device */
  /* Device-limits profile: NULL or "full" (the device as it is), "android-baseline-2022", "raspberry-pi". */
  const char* vulkan_profile;
} tessera_load_options;

typedef struct tessera_model tessera_model;
typedef struct tessera_session tessera_session;

/* Defaults: TESSERA_BACKEND_AUTO, 1 thread, best device. */
tessera_load_options tessera_default_load_options(void);
const char* tessera_last_error(void);

tessera_status tessera_model_load(const char* path, const tessera_load_options* options, tessera_model** out);
void tessera_model_free(tessera_model* model);
int64_t tessera_model_vocab_size(const tessera_model* model);
const char* tessera_model_backend_name(const tessera_model* model);

/* max_tokens = 0: the model's training context. */
tessera_status tessera_session_create(tessera_model* model, int64_t max_tokens, tessera_session** out);
void tessera_session_free(tessera_session* session);
tessera_status tessera_session_prefill(tessera_session* session, const int32_t* tokens, size_t n);
tessera_status tessera_session_decode(tessera_session* session, int32_t token);
/* The last position's next-token logits (vocab_size floats), valid until the next call on the session. */
const float* tessera_session_logits(const tessera_session* session);
void tessera_session_reset(tessera_session* session);

/* Greedy choice (lowest index on ties). */
int32_t tessera_argmax(const float* logits, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_C_H_ */
