#!/usr/bin/env bash
# The microcontroller table of docs/benchmarks.md: packs every shipped int8 model, builds the
# examples/mcu firmware for mps2-an386 (Cortex-M4) and mps3-an547 (Cortex-M55) twice (the CPU's kernels,
# and TESSERA_MICRO_PORTABLE_KERNELS=ON), runs each under qemu-system-arm -icount shift=0 and prints one
# markdown row per board and model: flash (blob) bytes, arena bytes at 64 / 256 positions, code bytes
# (.text of the generate firmware, blob excluded), instructions per token (mean of TOKENS greedy tokens)
# portable and with the CPU's kernels. The MQMTAR models also packed with --value-cache int8 (int8values-*).
# Usage: tools/bench/mcu_figures.sh TESSERA_CLI WORK_DIR [TOKENS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cli=$1 work=$2 tokens=${3:-16}
mkdir -p "$work/blobs"
models=()
for gguf in "$root"/examples/models/*/model-int8.gguf; do
  name=$(basename "$(dirname "$gguf")")
  "$cli" pack "$gguf" "$work/blobs/$name.tmb" >/dev/null
  models+=("$work/blobs/$name.tmb")
  if [[ $name == mqmtar-* ]]; then  # and with the int8 value cache (rows named int8values-<model>)
    "$cli" pack "$gguf" "$work/blobs/int8values-$name.tmb" --value-cache int8 >/dev/null
    models+=("$work/blobs/int8values-$name.tmb")
  fi
done
list=$(IFS=';'; echo "${models[*]}")
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
run() {  # machine elf -> log
  qemu-system-arm -machine "$1" -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$2" 2>&1
}
echo "| board | model | flash (blob) bytes | arena bytes, 64 / 256 positions | code bytes | instructions/token portable | with the CPU's kernels | kernels |"
echo "|---|---|---|---|---|---|---|---|"
for cpu in cortex-m4 cortex-m55; do
  case $cpu in cortex-m4) machine=mps2-an386 ;; cortex-m55) machine=mps3-an547 ;; esac
  for variant in fast portable; do
    portable=OFF
    [[ $variant == portable ]] && portable=ON
    cmake -S "$root" -B "$work/$cpu-$variant" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=OFF \
      -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$cpu.cmake" -DTESSERA_INT8_CORE_ONLY=ON \
      -DTESSERA_MCU_MODELS="$list" -DTESSERA_MCU_TOKENS="$tokens" -DTESSERA_MICRO_PORTABLE_KERNELS=$portable >/dev/null
    cmake --build "$work/$cpu-$variant" >/dev/null
  done
  for blob in "${models[@]}"; do
    name=$(basename "$blob" .tmb)
    fast_elf="$work/$cpu-fast/examples/mcu/generate_$name.elf"
    fast=$(run $machine "$fast_elf")
    portable=$(run $machine "$work/$cpu-portable/examples/mcu/generate_$name.elf")
    arena=$(sed -n 's/^arena bytes at 64 positions \([0-9]*\), at 256 positions \([0-9]*\)/\1 \/ \2/p' <<<"$fast")
    kernels=$(sed -n 's/.*kernels \(.*\)$/\1/p' <<<"$fast")
    code=$(arm-none-eabi-size -A "$fast_elf" | awk '$1 == ".text" { print $2 }')
    ipt_fast=$(sed -n 's/^mean instructions per token //p' <<<"$fast")
    ipt_portable=$(sed -n 's/^mean instructions per token //p' <<<"$portable")
    echo "| $machine | $name | $(stat -c %s "$blob") | $arena | $code | $ipt_portable | $ipt_fast | $kernels |"
  done
done
