#!/usr/bin/env bash
# Shipped models, old vs new int8 binary side by side (to judge an int8 kernel change): for each model, the float32
# cpu backend (NEW binary), then cpu-int8 with the OLD binary, then with the NEW one, back to back so all
# three see the same machine load. Prints tokens/s from CPU time (1e6 / cpu_time µs) per column.
# Usage: tools/bench/int8_shipped_ab.sh OLD_BENCH NEW_BENCH [ROUNDS]
# (OLD_BENCH: a copy of build/bench/int8_decode_bench built from the baseline commit.)
set -euo pipefail
old=$1 new=$2 rounds=${3:-3}
models="$(cd "$(dirname "$0")/../../examples/models" && pwd)"
echo "# $(date -u +%FT%TZ) load average $(cut -d' ' -f1-3 /proc/loadavg); columns: f32 (new), int8 old, int8 new"
for r in $(seq 1 "$rounds"); do
  for m in 0 1 2 3 4 5; do
    row=""
    for spec in "$new 0" "$old 1" "$new 1"; do
      set -- $spec
      line=$("$1" --shipped_dir="$models" --benchmark_filter="BM_DecodeShipped/model:$m/int8:$2/" \
             --benchmark_format=csv 2>/dev/null | grep '^"BM_DecodeShipped')
      row="$row $(python3 -c "import csv,sys; r=next(csv.reader([sys.argv[1]])); print(f'{1e6/float(r[3]):.0f} {r[7].split()[0]}')" "$line")"
    done
    echo "round $r model $m:$row"
  done
done
