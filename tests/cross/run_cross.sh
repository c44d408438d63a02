#!/usr/bin/env bash
# Cross-compiles the fixed-point core + tests/cross/cross_int8_main.cpp for aarch64 or armhf with
# Debian's cross g++ and runs it under qemu-user: the int32 logits must equal the x86-64 golden file
# and (aarch64) the NEON dot-product kernel must equal the portable one bit for bit.
# Usage: run_cross.sh aarch64|armhf SOURCE_ROOT WORK_DIR
set -euo pipefail
arch=$1 root=$2 work=$3
mkdir -p "$work/$arch"
core=(runtime/ops/int8/rsqrt_fixed.cpp runtime/ops/int8/matvec_int8.cpp runtime/ops/int8/requantize.cpp
      runtime/ops/int8/layernorm_fixed.cpp runtime/ops/int8/leaky_average_fixed.cpp runtime/ops/int8/l2norm_fixed.cpp
      runtime/ops/int8/softmax_fixed.cpp runtime/ops/int8/pmem_weights.cpp runtime/ops/int8/matvec_wide.cpp runtime/ops/int8/axpy_int8.cpp runtime/ops/int8/axpy_quads.cpp runtime/ops/int8/cos_scores.cpp runtime/ops/int8/matvec_q16_quads.cpp runtime/ops/int8/value_sum_int16.cpp runtime/ops/int8/matvec_q16.cpp runtime/cpu_int8/int8_forward.cpp
      runtime/ops/fixed/attention_fixed.cpp runtime/ops/fixed/entmax_fixed.cpp runtime/ops/fixed/entmax_power_sums.cpp runtime/ops/fixed/entmax_mass_scan.cpp runtime/ops/fixed/entmax_keys.cpp runtime/ops/fixed/fixed_math.cpp
      runtime/ops/fixed/relumax_fixed.cpp runtime/ops/fixed/softmax_fixed.cpp runtime/ops/fixed/topk_fixed.cpp tests/cross/cross_int8_main.cpp)
case $arch in
  aarch64) cxx=aarch64-linux-gnu-g++ qemu=(qemu-aarch64 -cpu max) defs=(-DTESSERA_HAVE_NEON_DOT=1)
           extra=(runtime/ops/int8/matvec_int8_neon_dot.cpp) ;;
  armhf)   cxx=arm-linux-gnueabihf-g++ qemu=(qemu-arm) defs=() extra=() ;;
  *) echo "unknown arch $arch" >&2; exit 2 ;;
esac
objs=()
for src in "${core[@]}" "${extra[@]}"; do
  obj="$work/$arch/$(tr / _ <<<"${src%.cpp}").o"
  flags=(-std=c++20 -O2 -Wall -I"$root/runtime" "${defs[@]}")
  [[ $src == *neon_dot* ]] && flags+=(-march=armv8.2-a+dotprod)
  "$cxx" "${flags[@]}" -c "$root/$src" -o "$obj"
  objs+=("$obj")
done
"$cxx" -static -o "$work/$arch/cross_int8_golden" "${objs[@]}"
"${qemu[@]}" "$work/$arch/cross_int8_golden" "$root/tests/cross/golden_int8_logits.txt"
