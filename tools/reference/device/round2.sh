#!/bin/bash
# As run on the H100 through the device tool: the folder it sits in held reference/ (tools/reference/*.py),
# tasks/ (tools/tasks/mqmtar.py), corpus/ (the three fortunes-min files) and, for round 2, prev/<method>.pt
# (round 1's checkpoints). Results went to $OUT as one tar per model.
# Device job 2: resume the MQMTAR models short of 99% (softmax, relumax long; biweight, triweight a short polish),
# retrain the text model with dropout 0.2 keeping the best validation weights; evaluate 1x..64x.
set -u
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
W=/tmp/pyref_runs2; mkdir -p $W
resume() {  # method budget lr warmup
  ( timeout 470 python3 reference/train.py --task mqmtar --method $1 --n_embd 128 --n_head 8 --n_layer 2 \
      --block_size 128 --pmem_size 256 --batch_size 256 --learning_rate $3 --warmup_iters $4 --min_lr 5e-5 \
      --max_iters 20000 --time_budget $2 --init_from prev/$1.pt --out_dir $W/mqmtar-$1 --seed 1337
    timeout 140 python3 reference/eval_mqmtar.py --samples 300 --csv $W/mqmtar-$1/accuracy.csv $W/mqmtar-$1/ckpt.pt
  ) > $W/log-mqmtar-$1.txt 2>&1 &
}
resume softmax 400 1e-3 100
resume relumax 400 1e-3 100
resume biweight 150 5e-4 50
resume triweight 150 5e-4 50
( timeout 400 python3 reference/train.py --task text --text_files corpus/fortunes corpus/literature corpus/riddles \
    --method softmax --n_embd 192 --n_head 8 --n_layer 3 --block_size 256 --pmem_size 256 --batch_size 64 \
    --ic_dropout 0.2 --hd_dropout 0.2 --learning_rate 2e-3 --warmup_iters 200 --max_iters 3000 --time_budget 240 \
    --eval_interval 100 --keep_best true --out_dir $W/fortunes --seed 1337 ) > $W/log-fortunes.txt 2>&1 &
wait
cd $W
for d in mqmtar-* fortunes; do cp log-$d.txt $d/ 2>/dev/null; tar cf $OUT/$d.tar $d; done
cat */accuracy.csv > $OUT/accuracy_all.csv 2>/dev/null
tail -n 2 log-*.txt; grep -h "time budget\|resumed\|keeping" log-*.txt
