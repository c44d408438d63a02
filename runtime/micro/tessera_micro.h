/* tessera_micro: the integer-only forward of a packed model (.tmb, `tessera pack`) for
 * microcontrollers. Freestanding: no heap, files, threads, exceptions or floating point. The blob is
 * read in place (e.g. from flash; it must start on a 16-byte boundary, as `tessera pack` lays it out)
 * and all state lives in one caller-supplied arena. C-callable.
 *
 *   size_t n;  tm_arena_bytes(blob, blob_bytes, 64, &n);      // arena for 64 positions
 *   tm_runtime* rt;  tm_init(blob, blob_bytes, arena, n, 64, &rt);
 *   tm_feed(rt, token, 1);  const int32_t* logits = tm_logits(rt);   // vocab_size int32 logits
 */
#ifndef TESSERA_MICRO_H
#define TESSERA_MICRO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tm_status {
  TM_OK = 0,
  TM_ERR_NULL_ARGUMENT,   /* a required pointer is null */
  TM_ERR_TRUNCATED,       /* fewer bytes than the header says (or than a header) */
  TM_ERR_BAD_MAGIC,       /* not a Tessera micro blob */
  TM_ERR_BAD_VERSION,     /* a blob version this library does not read */
  TM_ERR_CHECKSUM,        /* the bytes do not match the header's checksum (corrupted) */
  TM_ERR_BAD_LAYOUT,      /* a size, offset, alignment or value out of range */
  TM_ERR_MISALIGNED,      /* the blob does not start on a 16-byte boundary */
  TM_ERR_BAD_CAPACITY,    /* capacity is 0 or its arena size overflows */
  TM_ERR_ARENA_TOO_SMALL, /* tm_arena_bytes() says how much is needed */
  TM_ERR_CONTEXT_FULL,    /* every position of the context is used: tm_reset() */
  TM_ERR_BAD_TOKEN        /* token outside [0, vocab_size) */
} tm_status;

typedef struct tm_runtime tm_runtime;

typedef struct tm_model_info {
  uint32_t vocab_size, n_embd, n_head, n_layer, pmem_size, pmem_count;
  uint32_t logit_scale_f32; /* s_logit as IEEE-754 bits: real logit = s_logit * int32 logit */
} tm_model_info;

/* A short English sentence for a status (never null; "unknown status" for a value that is none). An int,
 * so that any value a caller holds may be passed. */
const char* tm_status_message(int status);

/* The int8 kernels this build runs: "portable", or the variant of its CPU ("cortex-m-dsp", "helium",
 * "avx512-vnni", ...); every one gives the same bits. */
const char* tm_kernel_name(void);

/* Validates the blob (header, checksum, every offset and size) and fills *info (optional). */
tm_status tm_check_blob(const void* blob, size_t blob_bytes, tm_model_info* info);

/* Bytes of arena tm_init needs for `capacity` positions (any arena alignment; includes the model's
 * layer table and 63 bytes of alignment slack). Validates the blob like tm_check_blob. */
tm_status tm_arena_bytes(const void* blob, size_t blob_bytes, uint32_t capacity, size_t* arena_bytes);

/* Binds a runtime to the blob (not copied: it must outlive the runtime) and the arena, position 0. */
tm_status tm_init(const void* blob, size_t blob_bytes, void* arena, size_t arena_bytes, uint32_t capacity,
                  tm_runtime** runtime);

/* Back to position 0 (a new sequence). */
tm_status tm_reset(tm_runtime* runtime);

/* Feeds one token at the next position; with want_logits != 0 the vocab_size int32 logits of this
 * position are then in tm_logits(). Fails without changing the state on a bad token or a full context. */
tm_status tm_feed(tm_runtime* runtime, int32_t token, int want_logits);

/* The logits of the last token fed with want_logits (vocab_size values; real = s_logit * value). */
const int32_t* tm_logits(const tm_runtime* runtime);

uint32_t tm_position(const tm_runtime* runtime);
uint32_t tm_capacity(const tm_runtime* runtime);
uint32_t tm_vocab_size(const tm_runtime* runtime);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_MICRO_H */
