#!/usr/bin/env python3
"""Top-1 agreement and logit error of a quantized model against the authors' fixtures.

Usage: int8_agreement.py TESSERA FIXTURES_DIR WORK_DIR [--backend cpu-int8] [quantize args...]
For every fixture folder: convert ckpt.pt, quantize, run `tessera logits` on the fixture tokens and
compare with expected.json (float64 logits of the authors' code). Prints one line per fixture and
the total; exit status 1 when the total agreement is below 99%.
"""
import json
import os
import subprocess
import sys


def main():
    tessera, fixtures, work = sys.argv[1:4]
    extra = sys.argv[4:]
    backend = "cpu-int8"
    if extra[:1] == ["--backend"]:
        backend, extra = extra[1], extra[2:]
    os.makedirs(work, exist_ok=True)
    agree = total = 0
    for name in sorted(os.listdir(fixtures)):
        folder = os.path.join(fixtures, name)
        if not os.path.isfile(os.path.join(folder, "expected.json")):
            continue
        exp = json.load(open(os.path.join(folder, "expected.json")))
        f32 = os.path.join(work, name + ".gguf")
        q8 = os.path.join(work, name + ".q8.gguf")
        subprocess.run([tessera, "convert", os.path.join(folder, "ckpt.pt"), f32], check=True, capture_output=True)
        r = subprocess.run([tessera, "quantize", f32, q8, "--quiet"] + extra, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{name:28s} quantize failed: {r.stderr.strip()}")
            continue
        toks = " ".join(map(str, exp["tokens"]))
        r = subprocess.run([tessera, "logits", q8, "--backend", backend, "--tokens", toks, "--format", "json"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{name:28s} {backend} failed: {r.stderr.strip()}")
            continue
        got = json.loads(r.stdout)["logits"]
        ref = exp["logits"]
        if isinstance(ref[0][0], list):
            ref = ref[0]
        a = sum(1 for g, e in zip(got, ref) if g.index(max(g)) == e.index(max(e)))
        err = max(abs(x - y) for g, e in zip(got, ref) for x, y in zip(g, e))
        span = max(abs(y) for e in ref for y in e)
        print(f"{name:28s} top-1 {a}/{len(ref)}  max|dlogit| {err:.4g} ({100 * err / span:.2f}% of max|logit|)")
        agree += a
        total += len(ref)
    pct = 100.0 * agree / max(total, 1)
    print(f"total top-1 agreement {agree}/{total} = {pct:.2f}%")
    return 0 if pct >= 99.0 else 1


if __name__ == "__main__":
    sys.exit(main())
