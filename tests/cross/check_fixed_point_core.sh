#!/usr/bin/env bash
# Builds runtime/ops/fixed/*.c* for a Cortex-M4 without FPU (soft-float ABI, freestanding) and fails if
# any object references a floating-point helper: the fixed-point kernels must be integer only.
# CMake-independent. Usage: tests/cross/check_fixed_point_core.sh [arm-none-eabi-g++]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cxx=${1:-arm-none-eabi-g++}
nm_tool=${cxx%g++}nm
if ! command -v "$cxx" >/dev/null; then
  echo "check_fixed_point_core: $cxx not found" >&2
  exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
shopt -s nullglob
sources=("$root"/runtime/ops/fixed/*.c*)
if ((${#sources[@]} == 0)); then
  echo "check_fixed_point_core: no sources in runtime/ops/fixed" >&2
  exit 1
fi
for src in "${sources[@]}"; do
  obj="$out/$(basename "$src").o"
  case "$src" in
    *.c) "${cxx%g++}gcc" -std=c11 -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -ffreestanding \
           -Wall -Werror -I"$root/runtime" -c "$src" -o "$obj" ;;
    *) "$cxx" -std=c++20 -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -ffreestanding -fno-exceptions \
         -fno-rtti -Wall -Werror -I"$root/runtime" -c "$src" -o "$obj" ;;
  esac
done
# Float helpers of the ARM run-time ABI (__aeabi_f*, __aeabi_d*, __aeabi_[ui]2[fd], ...) and libgcc's
# soft-float routines (__addsf3, __muldf3, __floatsidf, __fixdfsi, ...), plus libm entry points.
undefined=$("$nm_tool" -u "$out"/*.o | awk 'NF == 2 {print $2}' | sort -u)
bad=$(grep -E '^(__aeabi_(f|d|[ui]2[fd]|[ul]l2[fd]|cf|cd)|__(add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|unord|extend|trunc|fix|float)[a-z]*[sdt]f[0-9]*|(sqrt|cbrt|exp|log|pow)f?)$' <<<"$undefined" || true)
if [[ -n "$bad" ]]; then
  echo "check_fixed_point_core: floating-point symbols referenced by runtime/ops/fixed:" >&2
  echo "$bad" >&2
  exit 1
fi
external=$(grep -v "^_ZN7tessera" <<<"$undefined" | tr "\n" " " || true)
echo "check_fixed_point_core: ${#sources[@]} sources, integer only (external symbols: ${external:-none})"
