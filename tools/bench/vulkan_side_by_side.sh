#!/usr/bin/env bash
# Tessera's Vulkan backend next to the PyTorch-CUDA baselines on one GPU, one process per case
# (docs/benchmarks.md, "Vulkan prefill and decode"): prefill at T = 512 and 2048 (softmax, alpha = 1.5),
# decode at 2K, decode attention at 64K keys (softmax, alpha = 1.5, 4/3), a few of them again with
# --no-coopmat, then
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

run_case() {  # <name> <benchmark filter> [more vulkan_decoder_bench flags]
  local name=$1 filter=$2
  shift 2
  if ! "$bench" "$@" --benchmark_filter="$filter" --benchmark_counters_tabular=true \
       --benchmark_out="$out/$name.json" --benchmark_out_format=json >"$out/$name.txt" 2>&1; then
    echo "$name: failed (see $out/$name.txt)" >&2
    status=1
  fi
  echo "$name: $(grep -E "^BM_" "$out/$name.txt" || true)"
}

for method in 0 1; do
  for tokens in 512 2048; do
    run_case "prefill_method${method}_T${tokens}" "^BM_Prefill/i8:0/method:${method}/tokens:${tokens}/" --profile
  done
done
for method in 0 1; do
  run_case "decode_method${method}_2048" "^BM_Decode/i8:0/method:${method}/context:2048/"
done
for method in 0 1 2; do
  run_case "attention_method${method}_65536" "^BM_Attention/method:${method}/n:65536/lists:0/passes:0/"
done
# A/B: the same cases with NVIDIA cooperative matrices left off (fp32 tiled products; the device
# created without the cooperative-matrix / memory-model extensions).
for tokens in 512 2048; do
  run_case "prefill_method0_T${tokens}_nocoop" "^BM_Prefill/i8:0/method:0/tokens:${tokens}/" --no-coopmat
done
run_case "decode_method0_2048_nocoop" "^BM_Decode/i8:0/method:0/context:2048/" --no-coopmat
run_case "attention_method0_65536_nocoop" "^BM_Attention/method:0/n:65536/lists:0/passes:0/" --no-coopmat
python3 "$here/torch_cuda_prefill.py" --json "$out/torch_prefill.json" || status=1
python3 "$here/torch_cuda_decoder.py" --contexts 2048 --attention 65536 --json "$out/torch_decoder.json" || status=1
exit $status
