#!/usr/bin/env bash
# int8 CPU benchmark, side by side in one run: decode tokens/s on 1 and 2 threads of the int8 runtime,
# the float32 CPU runtime (same random model) and the cached PyTorch CPU float decoder, plus peak RSS
# and file sizes; then the shipped models (float32 model.gguf on cpu vs model-int8.gguf on cpu-int8).
# Each case runs in its own process so its peak RSS is its own. On a shared machine one run's figures move
# by ±20-30 %, so the whole set runs ROUNDS times and the summary gives, per row, the median tokens/s, the
# ratio of the medians and the range of each round's own ratio (int8 and its baselines ran within the same
# minute or two of each other).
# Usage: tools/bench/int8_bench.sh [BUILD_DIR] [MODEL_DIR] [ROUNDS] [PYTHON]   (prints raw rows, then the summary)
# PYTHON: an interpreter with torch (default /usr/bin/python3: Debian's python3-torch).
set -euo pipefail
build=${1:-build} models=${2:-/tmp/tessera-int8-bench} rounds=${3:-3} python=${4:-/usr/bin/python3}
bench="$build/bench/int8_decode_bench"
here="$(cd "$(dirname "$0")" && pwd)"
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
mkdir -p "$models"
echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds"
# First pass creates the model files (not measured).
for c in 0 1 2; do "$bench" --model_dir="$models" --benchmark_filter="BM_Decode/config:$c/int8:1/threads:1" \
  --benchmark_min_time=0.01 > /dev/null 2>&1; done
# One raw row per case: round, row name, backend, threads, tokens/s wall, tokens/s CPU, peak RSS MiB, file MiB.
# tokens/s (wall) is what a user sees; tokens/s (CPU) = 1 / CPU seconds of the calling thread per token,
# less sensitive to other processes on a shared machine (for 2 threads it omits the pool thread's work).
csv_row() {  # round threads csv_line
  python3 - "$@" <<'PY'
import csv, sys
rnd, threads, line = sys.argv[1], sys.argv[2], sys.argv[3]
row = next(csv.reader([line]))
# name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,error_occurred,error_message,file_MiB,peak_rss_MiB
label = row[7].split()
backend = "int8" if label[1] == "cpu-int8" else "f32"
print(rnd, label[0], backend, threads, f"{float(row[6]):.1f}", f"{1e6 / float(row[3]):.1f}",
      f"{float(row[11]):.1f}", f"{float(row[10]):.2f}")
PY
}
for r in $(seq 1 "$rounds"); do
  for c in 0 1 2; do
    for int8 in 0 1; do
      for t in 1 2; do
        line=$("$bench" --model_dir="$models" --benchmark_filter="BM_Decode/config:$c/int8:$int8/threads:$t/" \
               --benchmark_format=csv 2>/dev/null | grep '^"BM_Decode')
        csv_row "$r" "$t" "$line" | tee -a "$raw"
      done
    done
  done
  for m in 0 1 2 3 4 5; do
    for int8 in 0 1; do
      line=$("$bench" --shipped_dir="$here/../../examples/models" \
             --benchmark_filter="BM_DecodeShipped/model:$m/int8:$int8/" --benchmark_format=csv 2>/dev/null |
             grep '^"BM_DecodeShipped')
      csv_row "$r" 1 "$line" | tee -a "$raw"
    done
  done
  for cfg in fixture mid gpt2; do
    for t in 1 2; do
      # torch_cpu_decoder.py prints: config, "pytorch", version, "cpu", "f32", threads, tok/s wall, tok/s CPU, RSS, file
      "$python" "$here/torch_cpu_decoder.py" --config "$cfg" --threads "$t" |
        awk -v r="$r" '{print r, $1, "pytorch", $6, $7, $8, $9, "-"}' | tee -a "$raw"
    done
  done
done
echo
echo "# summary over $rounds rounds: median tokens/s (CPU time; wall for 2 threads); ratios: median ÷ median (range of the rounds' own ratios)"
python3 - "$raw" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
fig = {}  # (name, backend, threads) -> {round: (wall, cpu, rss, file)}
for rnd, name, backend, threads, wall, cpu, rss, file in rows:
    fig.setdefault((name, backend, threads), {})[rnd] = (float(wall), float(cpu), rss, file)
def tps(name, backend, threads, rnd):
    v = fig.get((name, backend, threads), {}).get(rnd)
    return None if v is None else (v[1] if threads == "1" else v[0])
def ratio_text(name, threads, other):
    # ratio of the medians (robust to one disturbed sample), then the per-round ratios' range
    rs = []
    for rnd in fig.get((name, "int8", threads), {}):
        a, b = tps(name, "int8", threads, rnd), tps(name, other, threads, rnd)
        if a and b:
            rs.append(a / b)
    if not rs:
        return ""
    a = statistics.median(tps(name, "int8", threads, r) for r in fig[(name, "int8", threads)])
    b = statistics.median(tps(name, other, threads, r) for r in fig[(name, other, threads)])
    return f"**{a / b:.2f}x** ({min(rs):.2f}-{max(rs):.2f})"
def med(name, backend, threads):
    vs = [tps(name, backend, threads, r) for r in fig.get((name, backend, threads), {})]
    return f"{statistics.median(vs):,.1f}" if vs else ""
def rss(name, backend, threads):
    vs = [float(v[2]) for v in fig.get((name, backend, threads), {}).values()]
    return f"{max(vs):.1f}" if vs else "-"
def file(name, backend):
    v = next(iter(fig.get((name, backend, "1"), {}).values()), None)
    return v[3] if v else "-"
print("| row | threads | float32 cpu | int8 | int8 ÷ f32 | PyTorch f32 | int8 ÷ PyTorch | peak RSS int8 / f32 / PyTorch MiB | file int8 / f32 MiB |")
print("|---|---|---|---|---|---|---|---|---|")
names = []
for name, backend, threads in fig:
    if name not in names:
        names.append(name)
for name in names:
    for threads in ("1", "2"):
        if (name, "int8", threads) not in fig:
            continue
        print(f"| {name} | {threads} | {med(name, 'f32', threads)} | {med(name, 'int8', threads)} | "
              f"{ratio_text(name, threads, 'f32')} | {med(name, 'pytorch', threads)} | {ratio_text(name, threads, 'pytorch')} | "
              f"{rss(name, 'int8', threads)} / {rss(name, 'f32', threads)} / {rss(name, 'pytorch', threads)} | "
              f"{file(name, 'int8')} / {file(name, 'f32')} |")
PY
