#!/bin/bash
# Device job 4 (run from the repository root through the device tool): job 3 showed a higher peak learning rate
# (3e-3) takes ReLUmax from 78 % to 100 %; the sparse models get the same treatment at two peak rates, then the
# float accuracy at 1x..64x (300 samples).
set -u
export PYTHONUNBUFFERED=1
W=/tmp/pyref_runs4; mkdir -p $W
nvidia-smi --query-gpu=name,driver_version --format=csv > $W/gpu.txt 2>&1
resume() {  # name method lr warmup budget
  ( timeout 400 python3 tools/reference/train.py --task mqmtar --method $2 --n_embd 128 --n_head 8 --n_layer 2 \
      --block_size 128 --pmem_size 256 --batch_size 256 --learning_rate $3 --warmup_iters $4 --min_lr 2e-5 \
      --max_iters 20000 --time_budget $5 --init_from examples/models/mqmtar-$2/ckpt.pt --out_dir $W/$1 --seed 2027
    timeout 170 python3 tools/reference/eval_mqmtar.py --samples 300 --csv $W/$1/accuracy.csv $W/$1/ckpt.pt
  ) > $W/log-$1.txt 2>&1 &
}
for m in epanechnikov biweight triweight; do
  resume $m-hi $m 3e-3 200 350
  resume $m-mid $m 1.5e-3 150 350
done
wait
cd $W
for d in */; do d=${d%/}; cp log-$d.txt $d/ 2>/dev/null; tar cf $OUT/$d.tar $d; done
cat */accuracy.csv > $OUT/accuracy_all.csv 2>/dev/null
tail -n 2 log-*.txt; grep -h "time budget\|resumed" log-*.txt; cat gpu.txt
