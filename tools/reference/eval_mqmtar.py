"""Float PyTorch accuracy on MQMTAR at 1x..64x (L = 64..4096) for trained checkpoints -> CSV.

  python3 eval_mqmtar.py --samples 300 --csv acc.csv runs/mq-*/ckpt.pt
Each length has its own sample stream: mqmtar.Mqmtar(eval_seed(--seed, L)), the stream `tessera eval` uses too.
Metric: teacher-forced argmax at the last 13 input positions; pair accuracy (both value tokens right) and exact
match (all 4 pairs right).
"""
import argparse
import csv
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tasks"))
import mqmtar  # noqa: E402
from memory_mosaics import load_checkpoint  # noqa: E402


@torch.no_grad()
def evaluate(model, length, samples, seed, device, max_elems):
    gen = mqmtar.Mqmtar(mqmtar.eval_seed(seed, length))
    data = [gen.sample(length) for _ in range(samples)]
    seqs = [mqmtar.wrap(s, t) for s, t in data]
    T = len(seqs[0]) - 1
    batch = max(1, max_elems // (T * T))
    right = exact = total = 0
    for b in range(0, samples, batch):
        chunk = seqs[b:b + batch]
        x = torch.tensor([s[:-1] for s in chunk], device=device)
        pred = model(x)[:, -mqmtar.TARGET_TOKENS:].argmax(-1).tolist()
        for p, (_, trg) in zip(pred, data[b:b + batch]):
            r, q, e = mqmtar.score(p, trg)
            right += r
            total += q
            exact += e
    return right / total, exact / samples, T


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--multiples", type=str, default="1,2,4,8,16,32,64")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", type=str, required=True)
    ap.add_argument("--device", type=str, default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--max_elems", type=int, default=1 << 24, help="batch so that batch * T^2 stays below this")
    a = ap.parse_args()
    rows = []
    for path in a.checkpoints:
        model, ckpt = load_checkpoint(path, map_location="cpu")
        model.to(a.device)
        name = os.path.basename(os.path.dirname(os.path.abspath(path)))
        for m in [int(v) for v in a.multiples.split(",")]:
            t0 = time.time()
            L = mqmtar.EVAL_BASE_LENGTH * m
            pair, em, T = evaluate(model, L, a.samples, a.seed, a.device, a.max_elems)
            rows.append({"model": name, "method": ckpt["model_args"]["method"], "backend": "pytorch-float32",
                         "multiple": m, "length": L, "tokens": T, "samples": a.samples,
                         "pair_accuracy": round(100 * pair, 2), "exact_match": round(100 * em, 2)})
            print(f"{name} {m}x (L={L}, T={T}): pair {100 * pair:.2f}% exact {100 * em:.2f}% "
                  f"({time.time() - t0:.1f}s)", flush=True)
    with open(a.csv + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    os.replace(a.csv + ".tmp", a.csv)


if __name__ == "__main__":
    main()
