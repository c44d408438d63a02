#!/bin/bash
# Device job: Tessera's MQMTAR accuracy for the named shipped models (default: all five) on every backend at
# 1x..64x, in parallel on the device (the H100 runs the vulkan rows, its 16 CPU cores the cpu and cpu-int8 rows).
# Runs from the repository root with the CLI built on the build machine carried as .dev-eval/tessera and the
# Vulkan loader as .gl/ (device README). Samples: 300 per length at 1x..16x; at 32x / 64x 100 on the GPU, 50 on
# the CPU backends (20 for cpu-int8 at 64x: fixed-point sparse attention over 3,848 keys costs seconds per
# token). Every job has a time limit and appends its rows to $OUT/tessera_eval.csv when it ends.
# Usage: tools/reference/device/eval_models.sh [softmax epanechnikov biweight triweight relumax]
set -u
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
T=$PWD/.dev-eval/tessera; W=/tmp/tessera_eval; mkdir -p $W
models=("$@"); [ ${#models[@]} -eq 0 ] && models=(softmax epanechnikov biweight triweight relumax)
jobs=()
for m in "${models[@]}"; do
  d=examples/models/mqmtar-$m
  for b in vulkan cpu cpu-int8; do
    f=$d/model.gguf; [ $b = cpu-int8 ] && f=$d/model-int8.gguf
    for x in 1x 2x 4x 8x 16x; do jobs+=("$b $f $x 300 $b-$m-$x"); done
    far=50; [ $b = vulkan ] && far=100
    jobs+=("$b $f 32x $far $b-$m-32x")
    [ $b = cpu-int8 ] && far=20
    jobs+=("$b $f 64x $far $b-$m-64x")
  done
done
echo "model,method,backend,multiple,length,tokens,samples,pair_accuracy,exact_match" > $OUT/tessera_eval.csv
run_one() {  # backend model lengths samples name
  local s=$(date +%s)
  timeout ${LIMIT:-540} $T eval mqmtar $2 --backend $1 --lengths $3 --samples $4 --threads 1 --csv $W/$5.csv > $W/$5.log 2>&1
  local rc=$?
  [ -f $W/$5.csv ] && flock $OUT/tessera_eval.csv sh -c "tail -n +2 $W/$5.csv >> $OUT/tessera_eval.csv"
  echo "$5 rc=$rc $(( $(date +%s) - s ))s" | tee -a $OUT/jobs.txt
}
export -f run_one; export T W OUT LIMIT
# longest jobs first
printf '%s\n' "${jobs[@]}" | sort -t' ' -k3,3Vr | xargs -P 16 -L 1 bash -c 'run_one "$@"' _
tar cf $OUT/logs.tar -C $W .
