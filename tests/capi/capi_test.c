/* C API test: the shipped fixture model must give the authors' greedy continuation, and errors must
 * come back as codes with a message. Exits non-zero on the first failure. */
#include <stdio.h>
#include <string.h>

#include "tessera/tessera_c.h"

#define CHECK(cond)                                                 \
  do {                                                              \
    if (!(cond)) {                                                  \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                     \
    }                                                               \
  } while (0)

int main(int argc, char** argv) {
  CHECK(argc == 2);
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
  tessera_model_free(model);
  printf("capi_test: ok\n");
  return 0;
}
