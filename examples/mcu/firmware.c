/* Bare-metal side of the generate firmware (both boards): vector table, reset handler, semihosting
 * output and exit status, SysTick-based instruction counting, and main() over the blob linked in.
 * Board constants come from the build (examples/mcu/CMakeLists.txt):
 *   TESSERA_MCU_BLOB        path of the .tmb linked in (.incbin); none: the kernel check instead
 *   TESSERA_MCU_TOKENS      tokens to generate (the arena is sized by tm_arena_bytes for them)
 *   TESSERA_MCU_SAMPLES     (optional) MQMTAR samples: score them (mqmtar_score.c) instead
 *   TESSERA_MCU_ARENA_BYTES static arena
 *   TESSERA_MCU_NS_PER_TICK_NUM / _DEN   SysTick period in ns (the board's CPU clock in QEMU) */
#include <stdint.h>

#include "board.h"

#ifdef TESSERA_MCU_BLOB
__asm__(
    ".section .tessera_model,\"a\"\n"
    ".balign 16\n"
    ".global tessera_model_blob\n"
    "tessera_model_blob:\n"
    ".incbin \"" TESSERA_MCU_BLOB
    "\"\n"
    ".global tessera_model_blob_end\n"
    "tessera_model_blob_end:\n"
    ".text\n");
extern const unsigned char tessera_model_blob[], tessera_model_blob_end[];
#else /* no model: the kernel check (tests/cross/mcu_kernel_check.cpp) */
int run_kernel_check(void);
#endif
#ifdef TESSERA_MCU_SAMPLES /* the MQMTAR scoring firmware: samples from tessera_mcu_mqmtar_samples */
__asm__(
    ".section .tessera_model,\"a\"\n"
    ".balign 16\n"
    ".global tessera_mqmtar_samples\n"
    "tessera_mqmtar_samples:\n"
    ".incbin \"" TESSERA_MCU_SAMPLES
    "\"\n"
    ".global tessera_mqmtar_samples_end\n"
    "tessera_mqmtar_samples_end:\n"
    ".text\n");
extern const int32_t tessera_mqmtar_samples[], tessera_mqmtar_samples_end[];
#endif

#ifdef TESSERA_MCU_BLOB
static unsigned char arena[TESSERA_MCU_ARENA_BYTES] __attribute__((aligned(64)));
#endif

/* Arm semihosting: an operation in r0, its argument block in r1, BKPT 0xAB (Thumb). */
static int semihost(int op, const void* arg) {
  register int r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void board_print(const char* text) { semihost(0x04, text); /* SYS_WRITE0 */ }

static void board_exit(int code) {
  const uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
  semihost(0x20, block); /* SYS_EXIT_EXTENDED: QEMU exits with `code` */
  for (;;) {
  }
}

/* SysTick on the processor clock, wrapping every 2^24 ticks; under QEMU -icount shift=0 virtual time
 * advances 1 ns per instruction, so ticks · ns-per-tick = instructions. */
#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)
static volatile uint32_t systick_wraps;

void SysTick_Handler(void) { ++systick_wraps; }

uint64_t board_instructions(void) {
  uint32_t wraps, value;
  do {
    wraps = systick_wraps;
    value = SYST_CVR;
  } while (wraps != systick_wraps);
  const uint64_t ticks = ((uint64_t)wraps << 24) + (0xFFFFFFu - value);
  return ticks * TESSERA_MCU_NS_PER_TICK_NUM / TESSERA_MCU_NS_PER_TICK_DEN;
}

static void print_calibration(void) {
  /* 2 instructions per iteration (subs, bne): what the counter reports for 2,000,000 of them. */
  const uint64_t start = board_instructions();
  uint32_t n = 1000000;
  __asm__ volatile("1: subs %0, %0, #1\n bne 1b\n" : "+r"(n));
  const uint64_t used = board_instructions() - start;
  char line[64] = "calibration: 2000000-instruction loop counted as ";
  char* at = line;
  while (*at) ++at;
  char digits[20];
  int k = 0;
  uint64_t v = used;
  do {
    digits[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (k) *at++ = digits[--k];
  *at++ = '\n';
  *at = 0;
  board_print(line);
}

int main(void) {
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* enable, interrupt, processor clock */
  while (SYST_CVR == 0) {
  } /* the first tick loads the reload value; counting starts there */
  print_calibration();
#if !defined(TESSERA_MCU_BLOB)
  const int rc = run_kernel_check();
#elif defined(TESSERA_MCU_SAMPLES)
  const int rc = run_mqmtar(tessera_model_blob, (size_t)(tessera_model_blob_end - tessera_model_blob), arena,
                            sizeof arena, tessera_mqmtar_samples,
                            (size_t)(tessera_mqmtar_samples_end - tessera_mqmtar_samples));
#else
  const int rc = run_generate(tessera_model_blob, (size_t)(tessera_model_blob_end - tessera_model_blob), arena,
                              sizeof arena, TESSERA_MCU_TOKENS);
#endif
  board_print(rc == 0 ? "done\n" : "failed\n");
  return rc;
}

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[], __stack_top[];

void Reset_Handler(void) {
  for (uint32_t *from = __data_load, *to = __data_start; to < __data_end;) *to++ = *from++;
  for (uint32_t* to = __bss_start; to < __bss_end;) *to++ = 0;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  /* CP10/CP11 full access: the FP register file MVE works in. */
  *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\n isb" ::: "memory");
#endif
  board_exit(main());
}

static void Fault_Handler(void) {
  board_print("fault: the firmware took an exception\n");
  board_exit(255);
}

__attribute__((section(".vectors"), used)) static void* const vectors[16] = {__stack_top,
                                                                             (void*)Reset_Handler,
                                                                             (void*)Fault_Handler,
                                                                             (void*)Fault_Handler,
                                                                             (void*)Fault_Handler,
                                                                             (void*)Fault_Handler,
                                                                             (void*)Fault_Handler,
                                                                             (void*)Fault_Handler,
                                                                             0,
                                                                             0,
                                                                             0,
                                                                             (void*)Fault_Handler,
                                                                             (void*)Fault_Handler,
                                                                             0,
                                                                             (void*)Fault_Handler,
                                                                             (void*)SysTick_Handler};
