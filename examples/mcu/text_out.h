/* Writing text and decimal numbers into a line buffer without printf (which would pull the C library's
 * formatting, and its floating point, into the firmware). Each returns the position after what it wrote. */
#ifndef TESSERA_MCU_TEXT_OUT_H
#define TESSERA_MCU_TEXT_OUT_H

#include <stdint.h>

static inline char* put_text(char* at, const char* s) {
  while (*s) *at++ = *s++;
  return at;
}

static inline char* put_uint(char* at, uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *at++ = digits[--n];
  return at;
}

#endif
