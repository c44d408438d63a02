"""Validation perplexity of the character model: float PyTorch and, optionally, Tessera backends (via
`tessera logits --format json`), over the same held-out text (every --val_every-th fortune) cut into consecutive
windows of block_size characters.

  python3 text_perplexity.py examples/models/fortunes-char/ckpt.pt --tessera build/tessera \
      --gguf cpu=examples/models/fortunes-char/model.gguf --gguf cpu-int8=examples/models/fortunes-char/model-int8.gguf
"""
import argparse
import json
import math
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from memory_mosaics import load_checkpoint  # noqa: E402
from train import load_text  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--corpus_dir", default="/usr/share/games/fortunes")
    ap.add_argument("--tessera", default="")
    ap.add_argument("--gguf", action="append", default=[], help="BACKEND=PATH (repeatable)")
    a = ap.parse_args()
    model, ckpt = load_checkpoint(a.ckpt)
    args = ckpt["model_args"]
    files = [os.path.join(a.corpus_dir, f) for f in args["text_files"]]
    _, val_text, vocab = load_text(files, args["val_every"])
    if vocab != args["tokenizer"]:
        sys.exit("the corpus on this machine differs from the one the model was trained on (tokenizer mismatch)")
    stoi = {c: i for i, c in enumerate(vocab)}
    ids = [stoi[c] for c in val_text]
    block = args["block_size"]
    windows = [(ids[s:s + block], ids[s + 1:s + 1 + block]) for s in range(0, len(ids) - 1, block)]
    windows = [(x[:len(y)], y) for x, y in windows]
    results = {}
    with torch.no_grad():
        nll = sum(F.cross_entropy(model(torch.tensor([x]))[0], torch.tensor(y), reduction="sum").item()
                  for x, y in windows)
    count = sum(len(y) for _, y in windows)
    results["pytorch-float32"] = nll / count
    for spec in a.gguf:
        backend, path = spec.split("=", 1)
        total = 0.0
        for x, y in windows:
            out = subprocess.run([a.tessera, "logits", path, "--backend", backend, "--format", "json", "--tokens",
                                  " ".join(map(str, x))], capture_output=True, text=True, check=True)
            logits = torch.tensor(json.loads(out.stdout)["logits"], dtype=torch.float64)
            total += F.cross_entropy(logits, torch.tensor(y), reduction="sum").item()
        results[backend] = total / count
    print(f"validation: {count} characters in {len(windows)} windows of {block}")
    for k, v in results.items():
        print(f"{k:16s} nll {v:.4f} nats/char  perplexity {math.exp(v):.3f}")


if __name__ == "__main__":
    main()
