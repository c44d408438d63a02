/* The generate program on a host (the x86 side of the firmware comparison):
 *   tessera_mcu_generate_host MODEL.tmb TOKENS */
#include <stdio.h>
#include <stdlib.h>

#include "board.h"

void board_print(const char* text) { fputs(text, stdout); }
uint64_t board_instructions(void) { return 0; }

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.tmb TOKENS\n", argv[0]);
    return 2;
  }
  FILE* f = fopen(argv[1], "rb");
  if (!f) {
    fprintf(stderr, "error: cannot open %s\n", argv[1]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  const long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  void* blob = size > 0 ? aligned_alloc(64, ((size_t)size + 63) & ~(size_t)63) : NULL;
  if (!blob || fread(blob, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "error: cannot read %s\n", argv[1]);
    fclose(f);
    return 1;
  }
  fclose(f);
  const size_t arena_bytes = (size_t)64 << 20;
  void* arena = malloc(arena_bytes);
  const int rc = arena ? run_generate(blob, (size_t)size, arena, arena_bytes, (uint32_t)atoi(argv[2])) : 1;
  free(arena);
  free(blob);
  return rc;
}
