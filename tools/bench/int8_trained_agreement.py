#!/usr/bin/env python3
"""int8 vs float top-1 agreement on trained MQMTAR models (all positions and the 13 target positions).

Usage: int8_trained_agreement.py TESSERA FLOAT.gguf INT8.gguf [--samples 20] [--length 64] [--seed 7]
Runs `tessera logits` with --backend cpu on the float model and --backend cpu-int8 on the quantized one over
MQMTAR samples from tools/tasks/mqmtar.py.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tasks"))
import mqmtar  # noqa: E402


def logits(tessera, model, backend, tokens):
    r = subprocess.run([tessera, "logits", model, "--backend", backend, "--tokens", " ".join(map(str, tokens)),
                        "--format", "json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["logits"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tessera")
    ap.add_argument("float_model")
    ap.add_argument("int8_model")
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--length", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    gen = mqmtar.Mqmtar(a.seed)
    agree = total = tagree = ttotal = 0
    for _ in range(a.samples):
        seq = mqmtar.wrap(*gen.sample(a.length))[:-1]
        f = logits(a.tessera, a.float_model, "cpu", seq)
        q = logits(a.tessera, a.int8_model, "cpu-int8", seq)
        for t, (x, y) in enumerate(zip(f, q)):
            same = x.index(max(x)) == y.index(max(y))
            agree += same
            total += 1
            if t >= len(seq) - mqmtar.TARGET_TOKENS:
                tagree += same
                ttotal += 1
    print(f"{os.path.basename(os.path.dirname(a.float_model)) or a.float_model}: top-1 agreement "
          f"{agree}/{total} = {100 * agree / total:.2f}% of positions, targets {tagree}/{ttotal}")


if __name__ == "__main__":
    main()
