#!/usr/bin/env bash
# int8 CPU benchmark, side by side in one run: decode tokens/s on 1 and 2 threads of the int8 runtime,
# the float32 CPU runtime (same random model) and the cached PyTorch CPU float decoder, plus peak RSS
# and file sizes. Each case runs in its own process so its peak RSS is its own.
# Usage: tools/bench/int8_bench.sh [BUILD_DIR] [MODEL_DIR]
set -euo pipefail
build=${1:-build} models=${2:-/tmp/tessera-int8-bench}
bench="$build/bench/int8_decode_bench"
mkdir -p "$models"
echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# First pass creates the model files (not measured).
for c in 0 1 2; do "$bench" --model_dir="$models" --benchmark_filter="BM_Decode/config:$c/int8:1/threads:1" \
  --benchmark_min_time=0.01 > /dev/null; done
# tokens/s (wall) is what a user sees; tokens/s (CPU) = 1 / CPU seconds of the calling thread per token,
# less sensitive to other processes on a shared machine (for 2 threads it omits the pool thread's work).
printf "%-8s %-28s %7s %14s %13s %14s %10s\n" config backend threads "tokens/s wall" "tokens/s CPU" "peak RSS MiB" "file MiB"
for c in 0 1 2; do
  for int8 in 0 1; do
    for t in 1 2; do
      line=$("$bench" --model_dir="$models" --benchmark_filter="BM_Decode/config:$c/int8:$int8/threads:$t/" \
             --benchmark_format=csv 2>/dev/null | grep '^"BM_Decode')
      python3 - "$line" "$t" <<'PY'
import csv, sys
row = next(csv.reader([sys.argv[1]]))
# name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,error_occurred,error_message,file_MiB,peak_rss_MiB
label = row[7]
cpu_tps = 1e6 / float(row[3])  # cpu_time in microseconds per token
print(f"{label.split()[0]:8s} {' '.join(label.split()[1:]):28s} {sys.argv[2]:>7s} {float(row[6]):14.1f} "
      f"{cpu_tps:13.1f} {float(row[11]):14.1f} {float(row[10]):10.2f}")
PY
    done
  done
done
# The shipped trained models (examples/models, 1 thread): model.gguf on cpu, model-int8.gguf (mixed
# int8/int16 as shipped) on cpu-int8.
for m in 0 1 2 3 4 5; do
  for int8 in 0 1; do
    line=$("$bench" --shipped_dir="$(dirname "$0")/../../examples/models" \
           --benchmark_filter="BM_DecodeShipped/model:$m/int8:$int8/" --benchmark_format=csv 2>/dev/null |
           grep '^"BM_DecodeShipped')
    python3 - "$line" <<'PY'
import csv, sys
row = next(csv.reader([sys.argv[1]]))
label = row[7]
print(f"{label.split()[0]:20s} {' '.join(label.split()[1:]):16s} {'1':>7s} {float(row[6]):14.1f} "
      f"{1e6 / float(row[3]):13.1f} {float(row[11]):14.1f} {float(row[10]):10.2f}")
PY
  done
done
for cfg in fixture mid gpt2; do
  for t in 1 2; do /usr/bin/python3 "$(dirname "$0")/torch_cpu_decoder.py" --config "$cfg" --threads "$t"; done
done
