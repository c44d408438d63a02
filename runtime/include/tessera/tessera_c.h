/* Tessera C API: a thin, stable ABI over the C++ API for C programs and other languages' FFIs.
 * Every function that can fail returns a tessera_status (0 = ok); tessera_last_error() returns the
 * message of the last failure on the calling thread. Objects are freed with their *_free function.
 *
 * Threads: a tessera_model may be shared by any number of threads (each with its own sessions); a
 * tessera_session and a tessera_sampler belong to one thread at a time. */
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
  TESSERA_INTERNAL = 8,
  TESSERA_RESOURCE_EXHAUSTED = 9 /* a request larger than the model, backend or machine can hold */
} tessera_status;

typedef enum tessera_backend {
  TESSERA_BACKEND_AUTO = 0,
  TESSERA_BACKEND_CPU = 1,
  TESSERA_BACKEND_VULKAN = 2,
  TESSERA_BACKEND_CPU_INT8 = 3
} tessera_backend;

/* Option structs begin with their own size so that the library can grow them without breaking callers
 * built against an older header: always start from the tessera_default_* function, which fills it. */
typedef struct tessera_load_options {
  size_t struct_size;              /* sizeof(tessera_load_options), set by tessera_default_load_options() */
  tessera_backend backend;
  int threads;                     /* >= 1 */
  int vulkan_device_index;         /* -1: best device (see tessera_device_count / tessera_device_name) */
  const char* vulkan_device_name;  /* NULL or a substring of a device's name; overrides the index */
  /* Device-limits profile: NULL or "full" (the device as it is), "android-baseline-2022", "raspberry-pi". */
  const char* vulkan_profile;
} tessera_load_options;

typedef struct tessera_session_options {
  size_t struct_size;  /* sizeof(tessera_session_options), set by tessera_default_session_options() */
  int64_t max_tokens;  /* cache capacity; 0: the model's training context */
  /* cpu-int8: caller-owned memory for the whole sequence state, at least
   * tessera_model_session_arena_bytes(model, max_tokens) bytes, any alignment, outliving the session.
   * NULL: the session allocates it once at creation. Other backends take no arena (size 0). */
  void* arena;
  size_t arena_size;
} tessera_session_options;

typedef struct tessera_sampler_params {
  size_t struct_size; /* sizeof(tessera_sampler_params), set by tessera_default_sampler_params() */
  float temperature;  /* 0: greedy (argmax, lowest index on ties) */
  float top_p;        /* nucleus, in (0, 1]; 1 disables */
  int top_k;          /* >= 0; 0 disables */
  uint64_t seed;
} tessera_sampler_params;

typedef struct tessera_model tessera_model;
typedef struct tessera_session tessera_session;
typedef struct tessera_sampler tessera_sampler;

/* Defaults: TESSERA_BACKEND_AUTO, 1 thread, best device. */
tessera_load_options tessera_default_load_options(void);
/* Defaults: the model's training context, no arena. */
tessera_session_options tessera_default_session_options(void);
/* Defaults: greedy. */
tessera_sampler_params tessera_default_sampler_params(void);
const char* tessera_last_error(void);

/* The Vulkan devices this process can use (0 when there is no Vulkan loader, driver or device: not an
 * error). tessera_device_name: "0: NVIDIA H100 (discrete GPU, subgroup 32)"; valid for the process. */
tessera_status tessera_device_count(int* count);
const char* tessera_device_name(int index);

tessera_status tessera_model_load(const char* path, const tessera_load_options* options, tessera_model** out);
/* A GGUF image in memory (an Android asset, a flash region): no copy is made, so `data` must stay valid
 * and unchanged until tessera_model_free. */
tessera_status tessera_model_load_from_memory(const void* data, size_t size, const tessera_load_options* options,
                                              tessera_model** out);
void tessera_model_free(tessera_model* model);
int64_t tessera_model_vocab_size(const tessera_model* model);
const char* tessera_model_backend_name(const tessera_model* model);
/* Bytes of tessera_session_options.arena a session of max_tokens positions needs (0: the backend takes
 * no arena). */
tessera_status tessera_model_session_arena_bytes(const tessera_model* model, int64_t max_tokens, size_t* bytes);

/* The model's tokenizer (GGUF tokenizer.ggml.tokens; TESSERA_UNSUPPORTED when the file has none).
 * encode: the ids of `text` (length bytes) into tokens[0 .. capacity); *n_tokens receives how many the
 * text needs, also when that exceeds capacity (then TESSERA_OUT_OF_RANGE and nothing is written). */
tessera_status tessera_tokenize(const tessera_model* model, const char* text, size_t length, int32_t* tokens,
                                size_t capacity, size_t* n_tokens);
/* The bytes of one token (not NUL-terminated: *length receives their count); NULL for an id out of
 * range. Valid while the model lives. */
const char* tessera_token_text(const tessera_model* model, int32_t token, size_t* length);

/* max_tokens = 0: the model's training context. */
tessera_status tessera_session_create(tessera_model* model, int64_t max_tokens, tessera_session** out);
tessera_status tessera_session_create_with_options(tessera_model* model, const tessera_session_options* options,
                                                   tessera_session** out);
void tessera_session_free(tessera_session* session);
tessera_status tessera_session_prefill(tessera_session* session, const int32_t* tokens, size_t n);
tessera_status tessera_session_decode(tessera_session* session, int32_t token);
/* The last position's next-token logits (vocab_size floats), valid until the next call on the session. */
const float* tessera_session_logits(const tessera_session* session);
void tessera_session_reset(tessera_session* session);

/* Greedy choice (lowest index on ties). */
int32_t tessera_argmax(const float* logits, int64_t n);

/* Temperature / top-k / top-p sampling with its own random stream (seeded); allocation-free after the
 * first call for a vocabulary size. One sampler per thread. */
tessera_status tessera_sampler_create(const tessera_sampler_params* params, tessera_sampler** out);
tessera_status tessera_sampler_sample(tessera_sampler* sampler, const float* logits, int64_t n, int32_t* token);
void tessera_sampler_free(tessera_sampler* sampler);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_C_H_ */
