/* Greedy generation on a packed model through tessera_micro, printing what the CI compares between
 * the boards and x86: per token the token fed, the argmax next token and an FNV-1a checksum of the
 * vocab_size int32 logits (little-endian bytes), then the instructions it took (boards only). First
 * the error paths (check_bad_input). */
#include "board.h"
#include "text_out.h"
#include "micro/tessera_micro.h"

static char* put_hex(char* at, uint32_t v) {
  for (int i = 7; i >= 0; --i) *at++ = "0123456789abcdef"[(v >> (4 * i)) & 15];
  return at;
}

static int fail(const char* what, tm_status st) {
  char line[160];
  char* at = put_text(line, "error: ");
  at = put_text(at, what);
  at = put_text(at, ": ");
  at = put_text(at, tm_status_message(st));
  *at++ = '\n';
  *at = 0;
  board_print(line);
  return (int)st;
}

/* Bad input on the device: each must give its status code (and no fault). The blob is read-only here
 * (flash), so corrupted bytes are tested on the host (tests/micro); everything else is checked here. */
static int check_bad_input(const void* blob, size_t blob_bytes, void* arena, size_t arena_bytes) {
  const unsigned char* bytes = (const unsigned char*)blob;
  size_t need = 0;
  tm_runtime* rt = 0;
  int wrong = 0;
  wrong += tm_arena_bytes(blob, blob_bytes - 1, 4, &need) != TM_ERR_TRUNCATED;
  wrong += tm_arena_bytes(blob, 16, 4, &need) != TM_ERR_TRUNCATED;
  wrong += tm_arena_bytes(bytes + 4, blob_bytes - 4, 4, &need) != TM_ERR_MISALIGNED;
  wrong += tm_arena_bytes(bytes + 16, blob_bytes - 16, 4, &need) != TM_ERR_BAD_MAGIC;
  wrong += tm_arena_bytes(blob, blob_bytes, 0, &need) != TM_ERR_BAD_CAPACITY;
  wrong += tm_arena_bytes(blob, blob_bytes, 1u << 21, &need) != TM_ERR_BAD_CAPACITY;
  wrong += tm_arena_bytes(0, blob_bytes, 4, &need) != TM_ERR_NULL_ARGUMENT;
  if (tm_arena_bytes(blob, blob_bytes, 4, &need) != TM_OK) return fail("bad-input check", TM_ERR_BAD_LAYOUT);
  wrong += tm_init(blob, blob_bytes, arena, need - 1, 4, &rt) != TM_ERR_ARENA_TOO_SMALL;
  if (tm_init(blob, blob_bytes, arena, arena_bytes, 4, &rt) != TM_OK) return fail("bad-input check", TM_ERR_BAD_LAYOUT);
  wrong += tm_feed(rt, -1, 1) != TM_ERR_BAD_TOKEN;
  wrong += tm_feed(rt, (int32_t)tm_vocab_size(rt), 1) != TM_ERR_BAD_TOKEN;
  for (int t = 0; t < 4; ++t) wrong += tm_feed(rt, 0, 0) != TM_OK;
  wrong += tm_feed(rt, 0, 1) != TM_ERR_CONTEXT_FULL;
  wrong += tm_position(rt) != 4;
  char line[80];
  char* at = put_text(line, "bad input: ");
  if (wrong) {
    at = put_text(at, "FAIL: ");
    at = put_uint(at, (uint64_t)wrong);
    at = put_text(at, " calls gave the wrong status\n");
  } else {
    at = put_text(at, "every error path gave its status code\n");
  }
  *at = 0;
  board_print(line);
  return wrong ? 101 : 0;
}

int run_generate(const void* blob, size_t blob_bytes, void* arena, size_t arena_bytes, uint32_t tokens) {
  size_t need = 0;
  tm_status st = tm_arena_bytes(blob, blob_bytes, tokens, &need);
  if (st != TM_OK) return fail("tm_arena_bytes", st);
  const int bad = check_bad_input(blob, blob_bytes, arena, arena_bytes);
  if (bad) return bad;
  char line[160];
  char* at = put_text(line, "blob ");
  at = put_uint(at, blob_bytes);
  at = put_text(at, " bytes, arena ");
  at = put_uint(at, need);
  at = put_text(at, " bytes for ");
  at = put_uint(at, tokens);
  at = put_text(at, " positions, kernels ");
  at = put_text(at, tm_kernel_name());
  *at++ = '\n';
  *at = 0;
  board_print(line);
  size_t arena64 = 0, arena256 = 0;
  if (tm_arena_bytes(blob, blob_bytes, 64, &arena64) == TM_OK &&
      tm_arena_bytes(blob, blob_bytes, 256, &arena256) == TM_OK) {
    at = put_text(line, "arena bytes at 64 positions ");
    at = put_uint(at, arena64);
    at = put_text(at, ", at 256 positions ");
    at = put_uint(at, arena256);
    *at++ = '\n';
    *at = 0;
    board_print(line);
  }
  tm_runtime* rt = 0;
  const uint64_t init_start = board_instructions();
  st = tm_init(blob, blob_bytes, arena, arena_bytes, tokens, &rt);
  if (st != TM_OK) return fail("tm_init", st);
  at = put_text(line, "init instructions ");
  at = put_uint(at, board_instructions() - init_start);
  *at++ = '\n';
  *at = 0;
  board_print(line);
  const uint32_t vocab = tm_vocab_size(rt);
  int32_t token = 1 % (int32_t)vocab;
  uint64_t total = 0;
  for (uint32_t t = 0; t < tokens; ++t) {
    const uint64_t start = board_instructions();
    st = tm_feed(rt, token, 1);
    const uint64_t used = board_instructions() - start;
    if (st != TM_OK) return fail("tm_feed", st);
    total += used;
    const int32_t* logits = tm_logits(rt);
    uint32_t sum = 2166136261u;
    int32_t best = 0;
    for (uint32_t v = 0; v < vocab; ++v) {
      const uint32_t w = (uint32_t)logits[v];
      for (int b = 0; b < 4; ++b) sum = (sum ^ ((w >> (8 * b)) & 255u)) * 16777619u;
      if (logits[v] > logits[best]) best = (int32_t)v;
    }
    at = put_text(line, "token ");
    at = put_uint(at, t);
    at = put_text(at, " in ");
    at = put_uint(at, (uint32_t)token);
    at = put_text(at, " next ");
    at = put_uint(at, (uint32_t)best);
    at = put_text(at, " logits ");
    at = put_hex(at, sum);
    at = put_text(at, " | instructions ");
    at = put_uint(at, used);
    *at++ = '\n';
    *at = 0;
    board_print(line);
    token = best;
  }
  at = put_text(line, "mean instructions per token ");
  at = put_uint(at, tokens ? total / tokens : 0);
  *at++ = '\n';
  *at = 0;
  board_print(line);
  return 0;
}
