#!/bin/bash
# Device job 5 (repository root, carrying .dev-train/<method>.pt = the best 1x checkpoint of job 4 per method):
# the sparse models' remaining errors are all on the second value token when two pairs share a first value token
# (the key context must break the tie); softmax and ReLUmax learned that only after ~8,000+ steps, so the sparse
# models get a longer run at a moderate peak rate with the GPU shared by three processes instead of six.
set -u
export PYTHONUNBUFFERED=1
W=/tmp/pyref_runs5; mkdir -p $W
resume() {  # name method lr warmup budget
  ( timeout 470 python3 tools/reference/train.py --task mqmtar --method $2 --n_embd 128 --n_head 8 --n_layer 2 \
      --block_size 128 --pmem_size 256 --batch_size 256 --learning_rate $3 --warmup_iters $4 --min_lr 2e-5 \
      --max_iters 40000 --time_budget $5 --init_from .dev-train/$2.pt --out_dir $W/$1 --seed 4049
    timeout 120 python3 tools/reference/eval_mqmtar.py --samples 300 --csv $W/$1/accuracy.csv $W/$1/ckpt.pt
  ) > $W/log-$1.txt 2>&1 &
}
for m in epanechnikov biweight triweight; do resume $m $m 2e-3 100 420; done
wait
cd $W
for d in */; do d=${d%/}; cp log-$d.txt $d/ 2>/dev/null; tar cf $OUT/$d.tar $d; done
cat */accuracy.csv > $OUT/accuracy_all.csv 2>/dev/null
tail -n 2 log-*.txt; grep -h "time budget\|resumed" log-*.txt
