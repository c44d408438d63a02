/* C API test: the shipped fixture model must give the authors' greedy continuation, and errors must
 * come back as codes with a message. Exits non-zero on the first failure. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera/tessera_c.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                                \
    }                                                                          \
  } while (0)

static int read_file(const char* path, unsigned char** data, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return 0;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *data = (unsigned char*)malloc((size_t)n);
  *size = fread(*data, 1, (size_t)n, f);
  fclose(f);
  return *size == (size_t)n;
}

/* The int8 model with a tokenizer: tokenizer round trip, a session on a caller-owned arena (its logits
 * equal a self-allocating session's bit for bit), load from memory, the sampler. */
static int check_int8_model(const char* path) {
  tessera_load_options o = tessera_default_load_options();
  o.backend = TESSERA_BACKEND_CPU_INT8;
  tessera_model* model = NULL;
  CHECK(tessera_model_load(path, &o, &model) == TESSERA_OK);
  const int64_t vocab = tessera_model_vocab_size(model);

  int32_t ids[16];
  size_t n = 0;
  CHECK(tessera_tokenize(model, "The ", 4, ids, 16, &n) == TESSERA_OK);
  CHECK(n > 0 && n <= 4);
  char round_trip[16] = {0};
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t len = 0;
    const char* text = tessera_token_text(model, ids[i], &len);
    CHECK(text != NULL && used + len < sizeof round_trip);
    memcpy(round_trip + used, text, len);
    used += len;
  }
  CHECK(strcmp(round_trip, "The ") == 0);
  CHECK(tessera_token_text(model, (int32_t)vocab, &used) == NULL);
  CHECK(tessera_tokenize(model, "The ", 4, ids, 1, &n) == TESSERA_OUT_OF_RANGE);
  CHECK(n > 1);

  size_t arena_bytes = 0;
  CHECK(tessera_model_session_arena_bytes(model, 32, &arena_bytes) == TESSERA_OK);
  CHECK(arena_bytes > 0);
  void* arena = malloc(arena_bytes + 3);
  tessera_session_options so = tessera_default_session_options();
  so.max_tokens = 32;
  so.arena = (char*)arena + 3; /* any alignment */
  so.arena_size = arena_bytes;
  tessera_session* a = NULL;
  tessera_session* b = NULL;
  CHECK(tessera_session_create_with_options(model, &so, &a) == TESSERA_OK);
  CHECK(tessera_session_create(model, 32, &b) == TESSERA_OK);
  so.arena_size = arena_bytes - 1;
  tessera_session* too_small = NULL;
  CHECK(tessera_session_create_with_options(model, &so, &too_small) != TESSERA_OK && too_small == NULL);
  so.struct_size = 0;
  CHECK(tessera_session_create_with_options(model, &so, &too_small) == TESSERA_INVALID_ARGUMENT);
  CHECK(strstr(tessera_last_error(), "struct_size") != NULL);

  CHECK(tessera_session_prefill(a, ids, 1) == TESSERA_OK);
  CHECK(tessera_session_prefill(b, ids, 1) == TESSERA_OK);
  tessera_sampler_params sp = tessera_default_sampler_params();
  tessera_sampler* greedy = NULL;
  CHECK(tessera_sampler_create(&sp, &greedy) == TESSERA_OK);
  sp.temperature = 0.8f;
  sp.top_p = 0.95f;
  sp.seed = 7;
  tessera_sampler* s1 = NULL;
  tessera_sampler* s2 = NULL;
  CHECK(tessera_sampler_create(&sp, &s1) == TESSERA_OK);
  CHECK(tessera_sampler_create(&sp, &s2) == TESSERA_OK);
  for (int i = 0; i < 12; ++i) {
    const float* la = tessera_session_logits(a);
    CHECK(memcmp(la, tessera_session_logits(b), (size_t)vocab * sizeof(float)) == 0);
    int32_t g = -1, t1 = -1, t2 = -1;
    CHECK(tessera_sampler_sample(greedy, la, vocab, &g) == TESSERA_OK);
    CHECK(g == tessera_argmax(la, vocab));
    CHECK(tessera_sampler_sample(s1, la, vocab, &t1) == TESSERA_OK);
    CHECK(tessera_sampler_sample(s2, la, vocab, &t2) == TESSERA_OK);
    CHECK(t1 == t2 && t1 >= 0 && t1 < vocab); /* same seed, same stream */
    CHECK(tessera_session_decode(a, t1) == TESSERA_OK);
    CHECK(tessera_session_decode(b, t1) == TESSERA_OK);
  }
  sp.top_p = 0.0f;
  tessera_sampler* bad = NULL;
  CHECK(tessera_sampler_create(&sp, &bad) == TESSERA_INVALID_ARGUMENT && bad == NULL);
  CHECK(strstr(tessera_last_error(), "top_p") != NULL);
  tessera_sampler_free(greedy);
  tessera_sampler_free(s1);
  tessera_sampler_free(s2);
  tessera_session_free(a);
  tessera_session_free(b);
  free(arena);

  /* The same file from memory gives the same logits. */
  unsigned char* bytes = NULL;
  size_t size = 0;
  CHECK(read_file(path, &bytes, &size));
  tessera_model* from_memory = NULL;
  CHECK(tessera_model_load_from_memory(bytes, size, &o, &from_memory) == TESSERA_OK);
  tessera_session* m = NULL;
  CHECK(tessera_session_create(from_memory, 8, &m) == TESSERA_OK);
  CHECK(tessera_session_create(model, 8, &b) == TESSERA_OK);
  CHECK(tessera_session_prefill(m, ids, 1) == TESSERA_OK && tessera_session_prefill(b, ids, 1) == TESSERA_OK);
  CHECK(memcmp(tessera_session_logits(m), tessera_session_logits(b), (size_t)vocab * sizeof(float)) == 0);
  tessera_session_free(m);
  tessera_session_free(b);
  tessera_model_free(from_memory);
  CHECK(tessera_model_load_from_memory(bytes, size / 2, &o, &from_memory) == TESSERA_CORRUPT_FILE);
  CHECK(from_memory == NULL);
  free(bytes);

  /* An options struct from an older header (without vulkan_device_name) still loads. */
  o.struct_size = offsetof(tessera_load_options, vulkan_device_name);
  tessera_model* old = NULL;
  CHECK(tessera_model_load(path, &o, &old) == TESSERA_OK);
  tessera_model_free(old);
  tessera_model_free(model);
  return 0;
}

int main(int argc, char** argv) {
  CHECK(argc == 3);
  int devices = -1;
  CHECK(tessera_device_count(&devices) == TESSERA_OK && devices >= 0);
  for (int i = 0; i < devices; ++i) CHECK(tessera_device_name(i) != NULL);
  CHECK(tessera_device_name(devices) == NULL);
  if (check_int8_model(argv[2]) != 0) return 1;
  tessera_load_options o = tessera_default_load_options();
  o.backend = TESSERA_BACKEND_CPU;
  tessera_model* model = NULL;
  CHECK(tessera_model_load(argv[1], &o, &model) == TESSERA_OK);
  CHECK(tessera_model_vocab_size(model) == 101);
  CHECK(strcmp(tessera_model_backend_name(model), "cpu") == 0);

  tessera_session* s = NULL;
  CHECK(tessera_session_create(model, 24, &s) == TESSERA_OK);
  /* The authors' generate(prompt, 16, top_k=1) on this checkpoint (ds-regular-epanechnikov/expected.json). */
  const int32_t prompt[8] = {18, 37, 98, 31, 30, 61, 20, 37};
  const int32_t want[16] = {37, 53, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49};
  CHECK(tessera_session_prefill(s, prompt, 8) == TESSERA_OK);
  for (int i = 0; i < 16; ++i) {
    int32_t tok = tessera_argmax(tessera_session_logits(s), tessera_model_vocab_size(model));
    CHECK(tok == want[i]);
    CHECK(tessera_session_decode(s, tok) == TESSERA_OK);
  }
  /* The cache holds 24 tokens: the 25th is out of range, with a message. */
  CHECK(tessera_session_decode(s, 1) == TESSERA_OUT_OF_RANGE);
  CHECK(strstr(tessera_last_error(), "capacity") != NULL);
  tessera_session_reset(s);
  CHECK(tessera_session_decode(s, 500) == TESSERA_INVALID_ARGUMENT);
  CHECK(strstr(tessera_last_error(), "out of the vocabulary") != NULL);
  tessera_session_free(s);

  /* A capacity no machine can hold: an error code with the numbers, not a wrapped size or an abort. */
  s = NULL;
  CHECK(tessera_session_create(model, INT64_MAX, &s) == TESSERA_RESOURCE_EXHAUSTED);
  CHECK(s == NULL);
  CHECK(strstr(tessera_last_error(), "9223372036854775807 positions") != NULL);
  CHECK(tessera_session_create(model, -5, &s) == TESSERA_INVALID_ARGUMENT);

  tessera_model* missing = NULL;
  CHECK(tessera_model_load("/nonexistent/model.gguf", &o, &missing) == TESSERA_NOT_FOUND);
  CHECK(missing == NULL);
  CHECK(strstr(tessera_last_error(), "/nonexistent/model.gguf") != NULL);
  CHECK(tessera_model_load(NULL, &o, &missing) == TESSERA_INVALID_ARGUMENT);
  /* An unknown Vulkan device-limits profile is refused by name, before any device is touched
   * (TESSERA_UNAVAILABLE: a build without Vulkan). */
  tessera_load_options vo = tessera_default_load_options();
  vo.backend = TESSERA_BACKEND_VULKAN;
  vo.vulkan_profile = "not-a-profile";
  tessera_status vs = tessera_model_load(argv[1], &vo, &missing);
  CHECK(vs == TESSERA_INVALID_ARGUMENT || vs == TESSERA_UNAVAILABLE);
  CHECK(missing == NULL);
  if (vs == TESSERA_INVALID_ARGUMENT) CHECK(strstr(tessera_last_error(), "android-baseline-2022") != NULL);
  /* So is an unknown key/value cache element type. */
  vo.vulkan_profile = NULL;
  vo.vulkan_kv_cache = "f8";
  vs = tessera_model_load(argv[1], &vo, &missing);
  CHECK(vs == TESSERA_INVALID_ARGUMENT || vs == TESSERA_UNAVAILABLE);
  CHECK(missing == NULL);
  if (vs == TESSERA_INVALID_ARGUMENT) CHECK(strstr(tessera_last_error(), "'f8' (expected auto, f16 or f32)") != NULL);
  tessera_model_free(model);
  printf("capi_test: ok\n");
  return 0;
}
