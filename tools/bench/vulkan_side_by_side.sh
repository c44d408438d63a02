#!/usr/bin/env bash
# Tessera's Vulkan backend next to the PyTorch-CUDA baselines on one GPU, one process per case
# (docs/benchmarks.md, "Vulkan prefill and decode"): prefill at T = 512 and 2048 (softmax, alpha = 1.5),
# decode at 2K, decode attention at 64K keys (softmax, alpha = 1.5, 4/3), then
# tools/bench/torch_cuda_prefill.py and tools/bench/torch_cuda_decoder.py.
# Usage: tools/bench/vulkan_side_by_side.sh <vulkan_decoder_bench binary> <output dir>
# Writes <output dir>/<case>.json (Google Benchmark JSON) and .txt per case, torch_*.json, and prints
# one summary line per case.
set -uo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 <vulkan_decoder_bench> <output dir>" >&2
  exit 2
fi
bench=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
status=0

run_case() {  # <name> <benchmark filter>
  if ! "$bench" --benchmark_filter="$2" --benchmark_counters_tabular=true --benchmark_out="$out/$1.json" \
       --benchmark_out_format=json >"$out/$1.txt" 2>&1; then
    echo "$1: failed (see $out/$1.txt)" >&2
    status=1
  fi
  grep -E "^BM_" "$out/$1.txt" || true
}

for method in 0 1; do
  for tokens in 512 2048; do
    run_case "prefill_method${method}_T${tokens}" "^BM_Prefill/i8:0/method:${method}/tokens:${tokens}/"
  done
done
for method in 0 1; do
  run_case "decode_method${method}_2048" "^BM_Decode/i8:0/method:${method}/context:2048/"
done
for method in 0 1 2; do
  run_case "attention_method${method}_65536" "^BM_Attention/method:${method}/n:65536/lists:0/passes:0/"
done
python3 "$here/torch_cuda_prefill.py" --json "$out/torch_prefill.json" || status=1
python3 "$here/torch_cuda_decoder.py" --contexts 2048 --attention 65536 --json "$out/torch_decoder.json" || status=1
exit $status
