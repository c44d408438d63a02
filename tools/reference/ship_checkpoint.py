"""Writes a repository copy of a training checkpoint: same dict, optimizer state dropped (None, which the
authors' resume code accepts), tensors on the CPU.

  python3 ship_checkpoint.py runs/mqmtar-softmax/ckpt.pt examples/models/mqmtar-softmax/ckpt.pt
"""
import os
import sys

import torch


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: ship_checkpoint.py IN_CKPT OUT_CKPT")
    ckpt = torch.load(sys.argv[1], map_location="cpu")
    for key in ("model", "model_args", "iter_num"):
        if key not in ckpt:
            sys.exit(f"{sys.argv[1]}: not a training checkpoint (no '{key}')")
    ckpt["optimizer"] = None
    os.makedirs(os.path.dirname(os.path.abspath(sys.argv[2])), exist_ok=True)
    # written under a scratch folder with the final file name (torch names the zip's top folder after the file)
    tmp_dir = sys.argv[2] + ".partial"
    os.makedirs(tmp_dir, exist_ok=True)
    tmp = os.path.join(tmp_dir, os.path.basename(sys.argv[2]))
    torch.save(ckpt, tmp)
    os.replace(tmp, sys.argv[2])
    os.rmdir(tmp_dir)


if __name__ == "__main__":
    main()
