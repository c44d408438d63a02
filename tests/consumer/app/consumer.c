/* A C program built on an installed Tessera (C API): greedy decoding from prompt token ids.
 *   consumer_c MODEL.gguf BACKEND N TOKEN [TOKEN ...]     BACKEND: cpu | cpu-int8 | auto
 * Prints "tokens: t1 t2 ..." (the N generated ids), the line `tessera generate --prompt-tokens` prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera/tessera_c.h"

static int fail(const char* what) {
  fprintf(stderr, "consumer_c: %s: %s\n", what, tessera_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s MODEL.gguf cpu|cpu-int8|auto N TOKEN [TOKEN ...]\n", argv[0]);
    return 2;
  }
  tessera_load_options options = tessera_default_load_options();
  options.backend = strcmp(argv[2], "cpu-int8") == 0 ? TESSERA_BACKEND_CPU_INT8
                    : strcmp(argv[2], "cpu") == 0    ? TESSERA_BACKEND_CPU
                                                     : TESSERA_BACKEND_AUTO;
  const int n_new = atoi(argv[3]);
  const int n_prompt = argc - 4;
  int32_t* prompt = malloc(sizeof(int32_t) * (size_t)n_prompt);
  if (!prompt || n_new < 1) return 2;
  for (int i = 0; i < n_prompt; ++i) prompt[i] = (int32_t)atoi(argv[4 + i]);

  tessera_model* model = NULL;
  tessera_session* session = NULL;
  int rc = 0;
  if (tessera_model_load(argv[1], &options, &model) != TESSERA_OK) {
    rc = fail("load");
  } else if (tessera_session_create(model, n_prompt + n_new, &session) != TESSERA_OK) {
    rc = fail("session");
  } else if (tessera_session_prefill(session, prompt, (size_t)n_prompt) != TESSERA_OK) {
    rc = fail("prefill");
  } else {
    const int64_t vocab = tessera_model_vocab_size(model);
    printf("tokens:");
    for (int i = 0; i < n_new; ++i) {
      const int32_t token = tessera_argmax(tessera_session_logits(session), vocab);
      printf(" %d", (int)token);
      if (i + 1 < n_new && tessera_session_decode(session, token) != TESSERA_OK) {
        rc = fail("decode");
        break;
      }
    }
    printf("\n");
  }
  tessera_session_free(session);
  tessera_model_free(model);
  free(prompt);
  return rc;
}
