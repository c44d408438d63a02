#!/usr/bin/env bash
# Accuracy of the quantized shipped models against their float models, measured with `tessera compare`
# (top-1 agreement, mean / p99 KL divergence, perplexity), and how much calibration data is enough.
#   1. every shipped model: weights-only (model-w8.gguf), all-int8 (--precision int8), the shipped mixed
#      file (model-int8.gguf, --precision auto), auto re-made by this build, all-int16 (--precision int16);
#   2. agreement vs calibration tokens: the first K sequences of the README calibration data, K = 1..48.
# Held-out data: MQMTAR models, 20 task samples (pairs region 64, seed 7; calibration uses seed 4242);
# fortunes-char, the validation fortunes (every 10th, as tools/reference/train.py splits them) in windows of
# 256 characters, calibrated on the first 8192 characters of the training fortunes (text through the
# model's tokenizer).
# Usage: tools/bench/quantize_accuracy.sh [BUILD_DIR] [WORK_DIR]     (needs the fortunes-min package)
set -euo pipefail
build=${1:-build} work=${2:-/tmp/tessera-quantize-accuracy}
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tessera="$build/tessera"
mkdir -p "$work"
python3 "$root/tools/reference/calibration_tokens.py" mqmtar > "$work/mqmtar-calib.txt"
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
docs = []
for f in ("fortunes", "literature", "riddles"):
    raw = open("/usr/share/games/fortunes/" + f, encoding="utf-8").read()
    docs += [d.strip("\n") for d in raw.split("\n%\n") if d.strip()]
train = "\n\n".join(d for i, d in enumerate(docs) if i % 10 != 9) + "\n\n"
open(work + "/fortunes-calib.txt", "w").write(train[:8192])  # 32 windows of 256 characters
open(work + "/fortunes-val.txt", "w").write("\n\n".join(d for i, d in enumerate(docs) if i % 10 == 9) + "\n\n")
PY

# row MODEL LABEL BASE QUANT [compare args...]
row() {
  local model=$1 label=$2 base=$3 quant=$4
  shift 4
  "$tessera" compare "$base" "$quant" --format json --quiet "$@" | python3 -c "
import json, sys
r = json.load(sys.stdin)
ppl = f\"{r['base_perplexity']:.4f} / {r['quant_perplexity']:.4f}\" if 'base_perplexity' in r else '-'
print(f\"| $model | $label | {r['agree']}/{r['positions']} = {100 * r['agreement_percent'] / 100:.2f} % | {r['kl_mean']:.3g} | {r['kl_p99']:.3g} | {r['kl_max']:.3g} | {ppl} |\")"
}

echo "| model | file | top-1 agreement | KL mean (nats) | KL p99 | KL max | perplexity float / quant |"
echo "|---|---|---|---|---|---|---|"
for dir in "$root"/examples/models/mqmtar-*/; do
  m=$(basename "$dir")
  for p in int8 auto int16; do
    "$tessera" quantize "$dir/model.gguf" "$work/$m-$p.gguf" --int8 --precision "$p" --calib "$work/mqmtar-calib.txt" --quiet > /dev/null
  done
  row "$m" "weights-only (model-w8.gguf)" "$dir/model.gguf" "$dir/model-w8.gguf" --samples 20
  row "$m" "int8, --precision int8" "$dir/model.gguf" "$work/$m-int8.gguf" --samples 20
  row "$m" "shipped model-int8.gguf (auto)" "$dir/model.gguf" "$dir/model-int8.gguf" --samples 20
  row "$m" "int8, --precision auto (this build)" "$dir/model.gguf" "$work/$m-auto.gguf" --samples 20
  row "$m" "int8, --precision int16" "$dir/model.gguf" "$work/$m-int16.gguf" --samples 20
done
f=$root/examples/models/fortunes-char
"$tessera" convert "$f/ckpt.pt" "$work/fortunes-f32.gguf" > /dev/null
for p in int8 auto int16; do
  "$tessera" quantize "$work/fortunes-f32.gguf" "$work/fortunes-$p.gguf" --int8 --precision "$p" \
    --calib "$work/fortunes-calib.txt" --calib-length 256 --quiet > /dev/null
done
val=(--data "$work/fortunes-val.txt" --length 256)
row fortunes-char "F16 (model.gguf)" "$work/fortunes-f32.gguf" "$f/model.gguf" "${val[@]}"
row fortunes-char "weights-only (model-w8.gguf)" "$work/fortunes-f32.gguf" "$f/model-w8.gguf" "${val[@]}"
row fortunes-char "int8, --precision int8" "$work/fortunes-f32.gguf" "$work/fortunes-int8.gguf" "${val[@]}"
row fortunes-char "shipped model-int8.gguf (auto)" "$work/fortunes-f32.gguf" "$f/model-int8.gguf" "${val[@]}"
row fortunes-char "int8, --precision auto (this build)" "$work/fortunes-f32.gguf" "$work/fortunes-auto.gguf" "${val[@]}"
row fortunes-char "int8, --precision int16" "$work/fortunes-f32.gguf" "$work/fortunes-int16.gguf" "${val[@]}"

echo
echo "| model | calibration sequences | tokens | agreement, --precision int8 | KL mean | agreement, --precision auto | KL mean |"
echo "|---|---|---|---|---|---|---|"
for dir in "$root"/examples/models/mqmtar-softmax/ "$root"/examples/models/mqmtar-biweight/; do
  m=$(basename "$dir")
  for k in 1 2 4 8 16 48; do
    head -n "$k" "$work/mqmtar-calib.txt" > "$work/calib-$k.txt"
    tokens=$(wc -w < "$work/calib-$k.txt")
    cells=""
    for p in int8 auto; do
      "$tessera" quantize "$dir/model.gguf" "$work/$m-k$k-$p.gguf" --int8 --precision "$p" --calib "$work/calib-$k.txt" --quiet > /dev/null
      cells+=$("$tessera" compare "$dir/model.gguf" "$work/$m-k$k-$p.gguf" --samples 20 --format json --quiet | \
        python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"| {r['agreement_percent']:.2f} % | {r['kl_mean']:.3g} \", end='')")
    done
    echo "| $m | $k | $tokens $cells|"
  done
done
