#!/usr/bin/env bash
# Integer-only, provably, on the whole firmware image: fails if a Cortex-M4 (soft-float) ELF links any
# floating-point helper (__aeabi_f*, __aeabi_d*, the __aeabi_*2f/*2d conversions or libgcc's
# __*sf*/__*df* routines). With ELF arguments it checks those; without, it builds the generate firmware
# (examples/mcu: startup, tessera_micro, the int8 core; an empty blob linked in) through CMake with
# cmake/toolchains/cortex-m4.cmake and checks it. A canary proves the detector sees a float helper.
# Usage: check_cortex_m4.sh SOURCE_ROOT WORK_DIR [FIRMWARE.elf...]
set -euo pipefail
root=$1 work=$2/cortex-m4-no-float
shift 2
mkdir -p "$work"
elfs=("$@")
if [[ ${#elfs[@]} -eq 0 ]]; then
  : > "$work/empty.tmb"
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$root" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=OFF \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/cortex-m4.cmake" -DTESSERA_INT8_CORE_ONLY=ON \
    -DTESSERA_MCU_MODELS="$work/empty.tmb" >/dev/null
  cmake --build "$work/build" --target generate_empty >/dev/null
  elfs=("$work/build/examples/mcu/generate_empty.elf")
fi
float_helpers='^__aeabi_(f|d)|^__aeabi_(u?i|u?l)2(f|d)$|^__(add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|unord)(s|d)f[23]$|^__(extendsfdf2|truncdfsf2|float|fix)'
printf 'int canary(int x) { return int(float(x) * 0.5f + 1.25); }\nint main() { return canary(3); }\n' > "$work/canary.cpp"
arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -O2 -c "$work/canary.cpp" -o "$work/canary.o"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=soft --specs=nosys.specs -o "$work/canary.elf" "$work/canary.o"
if ! arm-none-eabi-nm "$work/canary.elf" | awk '{print $NF}' | grep -qE "$float_helpers"; then
  echo "FAIL: the float-helper detector missed the canary"; exit 1
fi
for elf in "${elfs[@]}"; do
  symbols=$(arm-none-eabi-nm "$elf" | awk '{print $NF}')
  bad=$(grep -E "$float_helpers" <<<"$symbols" || true)
  if [[ -n "$bad" ]]; then
    echo "FAIL: $elf links floating-point helpers:"; echo "$bad"
    exit 1
  fi
  echo "ok: $(basename "$elf"): $(wc -l <<<"$symbols") symbols, no floating-point helper (Cortex-M4, -mfloat-abi=soft)"
done
