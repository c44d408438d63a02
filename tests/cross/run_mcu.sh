#!/usr/bin/env bash
# Every shipped int8 model on Arm's reference boards under QEMU, bit for bit against x86: packs each
# examples/models/*/model-int8.gguf (tessera pack; the MQMTAR models also with --value-cache int8, whose
# arena at 64 positions must be at most 64,000 bytes), runs the generate program on this host, builds the
# examples/mcu firmware for mps2-an386 (Cortex-M4) and mps3-an547 (Cortex-M55) through CMake with
# cmake/toolchains/cortex-m*.cmake, runs each under qemu-system-arm with semihosting and requires the
# same per-token lines (token fed, next token, checksum of the int32 logits) as the host; the boards run
# their DSP / Helium kernels, which kernel_check.elf also compares with the portable ones. The MQMTAR
# scoring firmware of mqmtar-softmax must report the pair accuracy `tessera eval mqmtar --backend
# cpu-int8` reports on x86 for the same samples. Then the whole-firmware no-float checks: no float
# helper in the M4 images (check_cortex_m4.sh), no floating-point instruction in the M55 images.
# Usage: run_mcu.sh SOURCE_ROOT WORK_DIR TESSERA_CLI HOST_GENERATE SAMPLES_TOOL TOKENS
set -euo pipefail
root=$1 work=$2/mcu cli=$3 host=$4 samples_tool=$5 tokens=$6
mqmtar_model=mqmtar-softmax mqmtar_samples=4 mqmtar_seed=1
mkdir -p "$work/blobs"
"$samples_tool" "$work/mqmtar-samples.bin" $mqmtar_samples 64 $mqmtar_seed
"$cli" eval mqmtar "$root/examples/models/$mqmtar_model/model-int8.gguf" --lengths 64 --samples $mqmtar_samples \
  --seed $mqmtar_seed --backend cpu-int8 --csv "$work/mqmtar-x86.csv" >/dev/null 2>&1
x86_accuracy=$(awk -F, 'NR == 2 { print $8 }' "$work/mqmtar-x86.csv")
models=()
pack() {  # gguf name [pack options]
  "$cli" pack "$1" "$work/blobs/$2.tmb" "${@:3}" >/dev/null
  "$host" "$work/blobs/$2.tmb" "$tokens" | grep '^token ' | sed 's/ | instructions.*//' > "$work/$2.x86.txt"
  [[ $(wc -l < "$work/$2.x86.txt") -eq $tokens ]] || { echo "FAIL: x86 run of $2"; exit 1; }
  models+=("$work/blobs/$2.tmb")
}
for gguf in "$root"/examples/models/*/model-int8.gguf; do
  name=$(basename "$(dirname "$gguf")")
  pack "$gguf" "$name"
  # The int8 value cache (blob version 2): the MQMTAR models must fit a 64,000-byte arena at 64 positions.
  [[ $name == mqmtar-* ]] && pack "$gguf" "int8values-$name" --value-cache int8
done
list=$(IFS=';'; echo "${models[*]}")
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
status=0
for cpu in cortex-m4 cortex-m55; do
  case $cpu in
    cortex-m4) machine=mps2-an386 ;;
    cortex-m55) machine=mps3-an547 ;;
  esac
  build="$work/$cpu"
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=OFF \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$cpu.cmake" -DTESSERA_INT8_CORE_ONLY=ON \
    -DTESSERA_MCU_MODELS="$list" -DTESSERA_MCU_TOKENS="$tokens" -DTESSERA_MCU_SAMPLES="$work/mqmtar-samples.bin" >/dev/null
  cmake --build "$build" >/dev/null
  elfs=()
  for blob in "${models[@]}"; do
    name=$(basename "$blob" .tmb)
    elf="$build/examples/mcu/generate_$name.elf"
    elfs+=("$elf")
    rc=0
    timeout 120 qemu-system-arm -machine "$machine" -nographic -monitor none -serial none \
      -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" > "$work/$name.$cpu.log" 2>&1 || rc=$?
    grep '^token ' "$work/$name.$cpu.log" | sed 's/ | instructions.*//' > "$work/$name.$cpu.txt" || true
    if [[ $rc -ne 0 ]] || ! cmp -s "$work/$name.x86.txt" "$work/$name.$cpu.txt"; then
      echo "FAIL: $name on $machine ($cpu): exit $rc, logits differ from x86:"
      diff "$work/$name.x86.txt" "$work/$name.$cpu.txt" | head -5 || true
      tail -3 "$work/$name.$cpu.log"
      status=1
      continue
    fi
    arena64=$(sed -n 's/^arena bytes at 64 positions \([0-9]*\),.*/\1/p' "$work/$name.$cpu.log")
    if [[ $name == int8values-* ]] && ! [[ -n $arena64 && $arena64 -le 64000 ]]; then
      echo "FAIL: $name on $machine: arena at 64 positions '$arena64' bytes, more than 64,000"
      status=1
      continue
    fi
    echo "ok: $name on $machine ($cpu): $(grep '^bad input' "$work/$name.$cpu.log"); $tokens tokens bit-identical to x86, arena $arena64 bytes at 64 positions, $(grep '^mean' "$work/$name.$cpu.log")"
  done
  if timeout 120 qemu-system-arm -machine "$machine" -nographic -monitor none -serial none \
       -semihosting-config enable=on,target=native -kernel "$build/examples/mcu/kernel_check.elf" \
       > "$work/kernel_check.$cpu.log" 2>&1; then
    grep '^ok:' "$work/kernel_check.$cpu.log" | sed "s/\$/ ($machine)/"
  else
    echo "FAIL: kernel check on $machine:"; grep -v '^calibration' "$work/kernel_check.$cpu.log"
    status=1
  fi
  elfs+=("$build/examples/mcu/mqmtar_$mqmtar_model.elf")
  rc=0
  timeout 120 qemu-system-arm -machine "$machine" -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -icount shift=0 \
    -kernel "$build/examples/mcu/mqmtar_$mqmtar_model.elf" > "$work/mqmtar.$cpu.log" 2>&1 || rc=$?
  pairs=$(sed -n 's/^mqmtar pairs \([0-9]*\/[0-9]*\),.*/\1/p' "$work/mqmtar.$cpu.log")
  board_accuracy=$(awk -v p="$pairs" 'BEGIN { split(p, a, "/"); if (a[2] > 0) printf "%.2f", 100 * a[1] / a[2] }')
  if [[ $rc -ne 0 || -z $board_accuracy || -z $x86_accuracy ]] ||
     ! awk -v a="$board_accuracy" -v b="$x86_accuracy" 'BEGIN { exit !(a - b < 0.005 && b - a < 0.005) }'; then
    echo "FAIL: MQMTAR on $machine: exit $rc, pairs '$pairs' ($board_accuracy %), x86 cpu-int8 $x86_accuracy %"
    tail -3 "$work/mqmtar.$cpu.log"
    status=1
  else
    echo "ok: MQMTAR $mqmtar_model on $machine: pairs $pairs = $board_accuracy %, x86 cpu-int8 $x86_accuracy % ($mqmtar_samples samples, 1x, seed $mqmtar_seed)"
  fi
  if [[ $cpu == cortex-m4 ]]; then
    bash "$root/tests/cross/check_cortex_m4.sh" "$root" "$work" "${elfs[@]}" | tail -1
  else
    for elf in "${elfs[@]}"; do
      if arm-none-eabi-objdump -d "$elf" | grep -qE '\.f(16|32|64)\b|vcvt'; then
        echo "FAIL: $elf has floating-point instructions"; status=1
      fi
    done
    echo "ok: no floating-point instruction in the Cortex-M55 images"
  fi
done
exit $status
