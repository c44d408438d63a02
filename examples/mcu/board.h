/* What the generate program needs from where it runs: the bare-metal boards (semihosting.c) or a
 * host (host_main.c), so that both runs print the same lines. */
#ifndef TESSERA_MCU_BOARD_H
#define TESSERA_MCU_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void board_print(const char* text);
/* Instructions retired so far (QEMU -icount shift=0: virtual time counts instructions), 0 on a host. */
uint64_t board_instructions(void);

/* Runs `tokens` tokens of greedy generation on the blob (first token 1) and prints, per token, the
 * token fed, the next token, a checksum of the int32 logits and the instructions it took. First checks
 * the error paths (truncated, misaligned, foreign blob, bad capacity, short arena, bad token, full
 * context). Returns 0, the tm_status that stopped it, or 101 when an error path gave the wrong status. */
int run_generate(const void* blob, size_t blob_bytes, void* arena, size_t arena_bytes, uint32_t tokens);

/* Scores MQMTAR samples (mqmtar_samples.cpp's format) teacher-forced and prints the pair accuracy.
 * Returns 0, the tm_status that stopped it, or 100 for a malformed sample file. */
int run_mqmtar(const void* blob, size_t blob_bytes, void* arena, size_t arena_bytes, const int32_t* words,
               size_t word_count);

#ifdef __cplusplus
}
#endif

#endif
