#!/bin/bash
# Device job: Tessera's MQMTAR accuracy for every shipped model on every backend, the paper's 1x..64x sweep.
# Runs from the repository root with the CLI built on the build machine carried as .dev-eval/tessera and the
# Vulkan loader as .gl/ (device README). The NVIDIA H100 runs the vulkan rows; its 16 CPU cores run the cpu and
# cpu-int8 rows at 32x and 64x as parallel jobs (one per model x backend x length). 300 samples per length on the
# GPU at 1x..16x and 100 at 32x, 64x; 50 (the first 50 of the same stream) for the CPU backends at 32x and 64x, where one sample costs seconds.
# (The CPU rows at 1x..16x ran on the build machine: `tessera eval mqmtar ... --samples 300`.) Every job has a
# time limit and appends its rows to $OUT/tessera_eval.csv when it ends, so a cut run still returns what finished.
set -u
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
T=$PWD/.dev-eval/tessera; W=/tmp/tessera_eval; mkdir -p $W
jobs=()
for m in softmax epanechnikov biweight triweight relumax; do
  d=examples/models/mqmtar-$m
  jobs+=("vulkan $d/model.gguf 1x,2x,4x,8x,16x 300 1 vulkan-$m-a")
  jobs+=("vulkan $d/model.gguf 32x 100 1 vulkan-$m-b")
  jobs+=("vulkan $d/model.gguf 64x 100 1 vulkan-$m-c")
  for b in cpu cpu-int8; do
    f=$d/model.gguf; [ $b = cpu-int8 ] && f=$d/model-int8.gguf
    jobs+=("$b $f 32x 50 1 $b-$m-b")
    jobs+=("$b $f 64x 50 1 $b-$m-c")
  done
done
echo "model,method,backend,multiple,length,tokens,samples,pair_accuracy,exact_match" > $OUT/tessera_eval.csv
run_one() {  # backend model lengths samples threads name
  local s=$(date +%s)
  timeout ${LIMIT:-270} $T eval mqmtar $2 --backend $1 --lengths $3 --samples $4 --threads $5 --csv $W/$6.csv > $W/$6.log 2>&1
  local rc=$?
  [ -f $W/$6.csv ] && flock $OUT/tessera_eval.csv sh -c "tail -n +2 $W/$6.csv >> $OUT/tessera_eval.csv"
  echo "$6 rc=$rc $(( $(date +%s) - s ))s" | tee -a $OUT/jobs.txt
}
export -f run_one; export T W OUT
# longest jobs first so the 64x ones start at once
printf '%s\n' "${jobs[@]}" | sort -t' ' -k3,3r | xargs -P 40 -L 1 bash -c 'run_one "$@"' _
tar cf $OUT/logs.tar -C $W .
$T devices > $OUT/devices.txt 2>&1; nvidia-smi --query-gpu=name,driver_version --format=csv >> $OUT/devices.txt
