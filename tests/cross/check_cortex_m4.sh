#!/usr/bin/env bash
# Integer-only, provably: builds the fixed-point core (ops/int8 + cpu_int8/int8_forward.cpp) for a
# Cortex-M4 with soft float, links it into an ELF whose entry point runs a token (so everything the
# per-token path can reach is linked), and fails if the ELF contains any floating-point helper
# (__aeabi_f*, __aeabi_d*, the __aeabi_*2f/*2d conversions or libgcc's __*sf*/__*df* routines).
# Usage: check_cortex_m4.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
root=$1 work=$2/cortex-m4
mkdir -p "$work"
flags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=soft -O2 -std=c++20 -fno-exceptions -fno-rtti -ffunction-sections
       -fdata-sections -I"$root/runtime")
core=(runtime/ops/int8/rsqrt_fixed.cpp runtime/ops/int8/matvec_int8.cpp runtime/ops/int8/requantize.cpp
      runtime/ops/int8/layernorm_fixed.cpp runtime/ops/int8/leaky_average_fixed.cpp runtime/ops/int8/l2norm_fixed.cpp
      runtime/ops/int8/softmax_fixed.cpp runtime/ops/int8/pmem_weights.cpp runtime/ops/int8/matvec_wide.cpp runtime/ops/int8/axpy_int8.cpp runtime/ops/int8/axpy_quads.cpp runtime/ops/int8/cos_scores.cpp runtime/ops/int8/matvec_q16_quads.cpp runtime/ops/int8/value_sum_int16.cpp runtime/ops/int8/matvec_q16.cpp runtime/cpu_int8/int8_forward.cpp
      runtime/ops/fixed/attention_fixed.cpp runtime/ops/fixed/entmax_fixed.cpp runtime/ops/fixed/entmax_power_sums.cpp runtime/ops/fixed/entmax_mass_scan.cpp runtime/ops/fixed/entmax_keys.cpp runtime/ops/fixed/fixed_math.cpp
      runtime/ops/fixed/relumax_fixed.cpp runtime/ops/fixed/topk_fixed.cpp)
objs=()
for src in "${core[@]}"; do
  obj="$work/$(tr / _ <<<"${src%.cpp}").o"
  arm-none-eabi-g++ "${flags[@]}" -c "$root/$src" -o "$obj"
  objs+=("$obj")
done
cat > "$work/entry.cpp" <<'CPP'
#include "cpu_int8/int8_forward.h"
// The model and arena would live in flash/RAM on a device; here they only need to link.
extern const tessera::int8::Int8Model g_model;
const tessera::int8::Int8Model g_model{};
alignas(64) static unsigned char g_arena[4096];
int32_t g_logits[16];
int main() {
  tessera::int8::Int8State s;
  tessera::int8::int8_state_bind(g_model, 1, g_arena, &s);
  tessera::int8::int8_forward_token(g_model, &s, 0, g_logits);
  return int(g_logits[0]);
}
CPP
arm-none-eabi-g++ "${flags[@]}" -c "$work/entry.cpp" -o "$work/entry.o"
# Linked by the C driver: the core needs no C++ runtime library.
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=soft --specs=nosys.specs -Wl,--gc-sections \
  -o "$work/int8_core.elf" "$work/entry.o" "${objs[@]}"
float_helpers='^__aeabi_(f|d)|^__aeabi_(u?i|u?l)2(f|d)$|^__(add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|unord)(s|d)f[23]$|^__(extendsfdf2|truncdfsf2|float|fix)'
# The detector must see a float helper when one is linked (a canary), or this check proves nothing.
printf 'int canary(int x) { return int(float(x) * 0.5f + 1.25); }\nint main() { return canary(3); }\n' > "$work/canary.cpp"
arm-none-eabi-g++ "${flags[@]}" -c "$work/canary.cpp" -o "$work/canary.o"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=soft --specs=nosys.specs -o "$work/canary.elf" "$work/canary.o"
if ! arm-none-eabi-nm "$work/canary.elf" | awk '{print $NF}' | grep -qE "$float_helpers"; then
  echo "FAIL: the float-helper detector missed the canary"; exit 1
fi
symbols=$(arm-none-eabi-nm "$work/int8_core.elf" | awk '{print $NF}')
bad=$(grep -E "$float_helpers" <<<"$symbols" || true)
objects_float=$(arm-none-eabi-nm "${objs[@]}" | grep -E ' U (__aeabi_(f|d)|__aeabi_(u?i|u?l)2(f|d)|__.*(s|d)f[23])' || true)
if [[ -n "$bad" || -n "$objects_float" ]]; then
  echo "FAIL: the fixed-point core links floating-point helpers:"; echo "$bad"; echo "$objects_float"
  exit 1
fi
echo "ok: $(wc -l <<<"$symbols") symbols in int8_core.elf, no floating-point helper (Cortex-M4, -mfloat-abi=soft)"
