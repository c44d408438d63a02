/* MQMTAR pair accuracy on the board, teacher-forced exactly as `tessera eval mqmtar` scores it
 * (runtime/tasks/mqmtar_eval.cpp): the model reads each sample's input, the argmax (first on ties) at the
 * last 13 positions is compared with the target, a pair counts when both value tokens are right. The
 * samples come from tessera_mcu_mqmtar_samples (format in mqmtar_samples.cpp). */
#include "board.h"
#include "text_out.h"
#include "micro/tessera_micro.h"

enum { kTargetTokens = 13, kTargetWords = 12 };

static void say(const char* a, uint64_t x, const char* b, uint64_t y, const char* c) {
  char line[160];
  char* at = put_text(line, a);
  at = put_uint(at, x);
  at = put_text(at, b);
  at = put_uint(at, y);
  at = put_text(at, c);
  *at = 0;
  board_print(line);
}

static int32_t argmax(const int32_t* logits, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t v = 1; v < n; ++v)
    if (logits[v] > logits[best]) best = v;
  return (int32_t)best;
}

/* Returns 0, a tm_status, or 100 for a malformed sample file. */
int run_mqmtar(const void* blob, size_t blob_bytes, void* arena, size_t arena_bytes, const int32_t* words,
               size_t word_count) {
  if (word_count < 3 || words[0] != 0x514D5354 || words[1] != 1 || words[2] <= 0) {
    board_print("error: not a version-1 MQMTAR sample file\n");
    return 100;
  }
  /* Capacity: the longest sample. */
  uint32_t capacity = 0;
  size_t at = 3;
  for (int32_t i = 0; i < words[2]; ++i) {
    if (at >= word_count || words[at] <= kTargetTokens || (size_t)words[at] + kTargetWords + 1 > word_count - at) {
      board_print("error: truncated MQMTAR sample file\n");
      return 100;
    }
    if ((uint32_t)words[at] > capacity) capacity = (uint32_t)words[at];
    at += 1 + (size_t)words[at] + kTargetWords;
  }
  tm_runtime* rt = 0;
  tm_status st = tm_init(blob, blob_bytes, arena, arena_bytes, capacity, &rt);
  if (st != TM_OK) {
    board_print("error: tm_init: ");
    board_print(tm_status_message(st));
    board_print("\n");
    return (int)st;
  }
  const uint32_t vocab = tm_vocab_size(rt);
  uint32_t pairs_right = 0, pairs = 0, exact = 0;
  uint64_t instructions = 0, tokens = 0;
  at = 3;
  for (int32_t i = 0; i < words[2]; ++i) {
    const uint32_t T = (uint32_t)words[at];
    const int32_t* x = words + at + 1;
    const int32_t* target = x + T;
    const uint32_t first = T - kTargetTokens;
    int32_t predicted[kTargetTokens];
    tm_reset(rt);
    const uint64_t start = board_instructions();
    for (uint32_t t = 0; t < T; ++t) {
      st = tm_feed(rt, x[t], t >= first);
      if (st != TM_OK) {
        board_print("error: tm_feed: ");
        board_print(tm_status_message(st));
        board_print("\n");
        return (int)st;
      }
      if (t >= first) predicted[t - first] = argmax(tm_logits(rt), vocab);
    }
    instructions += board_instructions() - start;
    tokens += T;
    uint32_t right = 0;
    for (uint32_t k = 0; k < kTargetWords / 3; ++k) {
      const uint32_t a = 3 * k + 1, b = a + 1;
      right += predicted[a] == target[a] && predicted[b] == target[b];
    }
    pairs_right += right;
    pairs += kTargetWords / 3;
    exact += right == kTargetWords / 3;
    say("sample ", (uint64_t)i, ": pairs right ", right, "/4\n");
    at += 1 + T + kTargetWords;
  }
  say("mqmtar pairs ", pairs_right, "/", pairs, "");
  say(", exact ", exact, "/", (uint64_t)words[2], "\n");
  say("instructions per token ", tokens ? instructions / tokens : 0, " over ", tokens, " tokens\n");
  return 0;
}
