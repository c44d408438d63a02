#!/bin/bash
# Device job: Tessera's MQMTAR accuracy for every shipped model on every backend, the paper's 1x..64x sweep.
# Runs from the repository root with the CLI built on the build machine carried as .dev-eval/tessera and the
# Vulkan loader as .gl/ (device README). The NVIDIA H100 runs the vulkan rows; its 16 CPU cores run the cpu and
# cpu-int8 rows as parallel jobs (one per model x backend x length group). 300 samples per length, except
# 100 (the first 100 of the same stream) for the CPU backends at 32x and 64x, where one sample costs seconds.
set -u
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
T=$PWD/.dev-eval/tessera; W=/tmp/tessera_eval; mkdir -p $W
jobs=()
for m in softmax epanechnikov biweight triweight relumax; do
  d=examples/models/mqmtar-$m
  jobs+=("vulkan $d/model.gguf 1x,2x,4x,8x,16x,32x,64x 300 1 vulkan-$m")
  jobs+=("vulkan $d/model-w8.gguf 1x,2x,4x,8x,16x 300 1 vulkan-w8-$m")
  jobs+=("cpu $d/model.gguf 1x,2x,4x,8x,16x 300 1 cpu-$m-a")
  jobs+=("cpu $d/model.gguf 32x 100 1 cpu-$m-b")
  jobs+=("cpu $d/model.gguf 64x 100 2 cpu-$m-c")
  jobs+=("cpu-int8 $d/model-int8.gguf 1x,2x,4x,8x,16x 300 1 int8-$m-a")
  jobs+=("cpu-int8 $d/model-int8.gguf 32x 100 1 int8-$m-b")
  jobs+=("cpu-int8 $d/model-int8.gguf 64x 100 2 int8-$m-c")
done
run_one() {  # backend model lengths samples threads name
  local s=$(date +%s)
  $T eval mqmtar $2 --backend $1 --lengths $3 --samples $4 --threads $5 --csv $W/$6.csv > $W/$6.log 2>&1
  echo "$6 rc=$? $(( $(date +%s) - s ))s"
}
export -f run_one; export T W
# longest jobs first so the 64x ones start at once
printf '%s\n' "${jobs[@]}" | sort -t' ' -k3,3r | xargs -P 14 -L 1 bash -c 'run_one "$@"' _
head -n 1 $W/vulkan-softmax.csv > $OUT/tessera_eval.csv
for f in $W/*.csv; do tail -n +2 $f >> $OUT/tessera_eval.csv; done
tar cf $OUT/logs.tar -C $W .
$T devices > $OUT/devices.txt 2>&1; nvidia-smi --query-gpu=name,driver_version --format=csv >> $OUT/devices.txt
