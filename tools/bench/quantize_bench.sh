#!/usr/bin/env bash
# `tessera quantize --int8` end to end, per phase, with peak RSS: a GPT-2-small-sized random float model
# (tests/bench/quantize/random_float_gguf: 12 layers, C 768, N 2688, vocab 50304, untied output, ~650 MB)
# with the default calibration data, then every shipped MQMTAR model with its README calibration data.
# Each quantization runs in its own process under /usr/bin/time -v. Also checks that --threads 1 and
# --threads THREADS write the same bytes.
# Times: wall seconds, with the process's CPU seconds (all threads) in parentheses: on a shared machine
# the CPU figure is the one that does not move with other people's load.
# Usage: tools/bench/quantize_bench.sh [BUILD_DIR] [WORK_DIR] [THREADS]
# BUILD_DIR must be configured with -DTESSERA_BUILD_BENCHMARKS=ON (for random_float_gguf).
set -euo pipefail
build=${1:-build} work=${2:-/tmp/tessera-quantize-bench} threads=${3:-2}
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mkdir -p "$work"
echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$work/gpt2size.gguf" ] || "$build/bench/random_float_gguf" "$work/gpt2size.gguf" > /dev/null
[ -f "$work/mqmtar-calib.txt" ] || python3 "$root/tools/reference/calibration_tokens.py" mqmtar > "$work/mqmtar-calib.txt"

# quantize LABEL INPUT OUTPUT THREADS [args...]: one table row from the report's phase times and time -v.
quantize() {
  local label=$1 input=$2 output=$3 n=$4
  shift 4
  /usr/bin/time -v -o "$work/time.txt" "$build/tessera" quantize "$input" "$output" --int8 --quiet \
    --threads "$n" --report "$work/report.json" "$@" > /dev/null
  python3 - "$label" "$input" "$n" "$work/report.json" "$work/time.txt" <<'PY'
import json, os, re, sys
label, path, n, report, timefile = sys.argv[1:]
r = json.load(open(report))
t = open(timefile).read()
rss_mib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1).split(":")
wall_s = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
size_mib = os.path.getsize(path) / 2**20
ph, cpu = r["phase_seconds"], r["phase_cpu_seconds"]
agree = r.get("agreement", {})
cell = lambda k: f"{ph.get(k, 0):.2f} ({cpu.get(k, 0):.2f})"
user = float(re.search(r"User time \(seconds\): (\S+)", t).group(1))
system = float(re.search(r"System time \(seconds\): (\S+)", t).group(1))
print(f"| {label} | {size_mib:.1f} | {n} | {r['calibration_tokens']} | {cell('load')} | {cell('calibration')} | "
      f"{cell('search')} | {cell('quantization')} | {cell('write')} | {wall_s:.2f} ({user + system:.2f}) | "
      f"{rss_mib:.0f} ({rss_mib / size_mib:.2f}x) | {agree.get('chosen', '-')}/{agree.get('positions', '-')} |")
PY
}

echo "| model | input MiB | threads | calib tokens | load s | calibration s | search s | quantize s | write s | total s | peak RSS MiB (x input) | simulated top-1 |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
quantize gpt2-size "$work/gpt2size.gguf" "$work/gpt2size-int8.gguf" "$threads"
for m in "$root"/examples/models/mqmtar-*/; do
  name=$(basename "$m")
  quantize "$name" "$m/model.gguf" "$work/$name-int8.gguf" "$threads" --calib "$work/mqmtar-calib.txt"
  quantize "$name" "$m/model.gguf" "$work/$name-int8-t1.gguf" 1 --calib "$work/mqmtar-calib.txt" > /dev/null
  cmp -s "$work/$name-int8.gguf" "$work/$name-int8-t1.gguf" || { echo "$name: --threads 1 and $threads differ" >&2; exit 1; }
done
echo "# --threads 1 and --threads $threads wrote identical files for every MQMTAR model"
