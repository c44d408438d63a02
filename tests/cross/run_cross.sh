#!/usr/bin/env bash
# Builds tessera_int8_core + cross_int8_golden for aarch64 or armhf with Debian's cross g++ (this project,
# TESSERA_INT8_CORE_ONLY=ON, a toolchain file from cmake/toolchains) and runs it under qemu-user: the int32
# logits must equal the x86-64 golden file and every kernel variant the CPU runs (aarch64: the NEON
# dot-product matvec) must equal the portable one bit for bit.
# Usage: run_cross.sh aarch64|armhf SOURCE_ROOT WORK_DIR
set -euo pipefail
arch=$1 root=$2 work=$3
case $arch in
  aarch64) toolchain=aarch64-linux-gnu qemu=(qemu-aarch64 -cpu max) ;;
  armhf)   toolchain=arm-linux-gnueabihf qemu=(qemu-arm) ;;
  *) echo "unknown arch $arch" >&2; exit 2 ;;
esac
build="$work/$arch"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$toolchain.cmake" -DTESSERA_INT8_CORE_ONLY=ON >/dev/null
cmake --build "$build" --target cross_int8_golden
"${qemu[@]}" "$build/tests/cross/cross_int8_golden" "$root/tests/cross/golden_int8_logits.txt"
