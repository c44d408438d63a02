#!/bin/bash
# As run on the H100 through the device tool: the folder it sits in held reference/ (tools/reference/*.py),
# tasks/ (tools/tasks/mqmtar.py), corpus/ (the three fortunes-min files) and, for round 2, prev/<method>.pt
# (round 1's checkpoints). Results went to $OUT as one tar per model.
# Device job: 5 MQMTAR models + 1 text model in parallel on one GPU, then float accuracy at 1x..64x.
set -u
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
W=/tmp/pyref_runs; mkdir -p $W
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > $W/gpu.txt 2>&1
python3 -c "import torch; print('torch', torch.__version__)" >> $W/gpu.txt
TB=${TB:-300}
for m in softmax epanechnikov biweight triweight relumax; do
  ( timeout 420 python3 reference/train.py --task mqmtar --method $m --n_embd 128 --n_head 8 --n_layer 2 \
      --block_size 128 --pmem_size 256 --batch_size 256 --learning_rate 2e-3 --max_iters 20000 --time_budget $TB \
      --out_dir $W/mqmtar-$m --seed 1337
    timeout 150 python3 reference/eval_mqmtar.py --samples 300 --csv $W/mqmtar-$m/accuracy.csv $W/mqmtar-$m/ckpt.pt
  ) > $W/log-mqmtar-$m.txt 2>&1 &
done
( timeout 520 python3 reference/train.py --task text --text_files corpus/fortunes corpus/literature corpus/riddles \
    --method softmax --n_embd 192 --n_head 8 --n_layer 3 --block_size 256 --pmem_size 256 --batch_size 64 \
    --ic_dropout 0.1 --hd_dropout 0.1 --learning_rate 2e-3 --max_iters 20000 --time_budget $((TB + 60)) \
    --eval_interval 250 --out_dir $W/fortunes --seed 1337 ) > $W/log-fortunes.txt 2>&1 &
wait
cd $W
for d in mqmtar-* fortunes; do cp log-$d.txt $d/ 2>/dev/null; tar cf $OUT/$d.tar $d; done
cat */accuracy.csv > $OUT/accuracy_all.csv 2>/dev/null
tail -n 3 log-*.txt; cat */train_summary.json; cat gpu.txt
