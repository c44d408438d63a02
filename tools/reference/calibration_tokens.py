"""Calibration sequences for `tessera quantize --calib FILE` (one sequence of ids per line).

  python3 calibration_tokens.py mqmtar > calib.txt      # 48 MQMTAR sequences at 1x, 2x, 4x (seed 4242)
  python3 calibration_tokens.py text examples/models/fortunes-char/ckpt.pt > calib.txt   # 32 training windows
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tasks"))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "mqmtar":
        import mqmtar
        g = mqmtar.Mqmtar(4242)
        for length in (64, 128, 256):
            for _ in range(16):
                print(" ".join(map(str, mqmtar.wrap(*g.sample(length))[:-1])))
    elif len(sys.argv) == 3 and sys.argv[1] == "text":
        import torch
        from train import load_text
        args = torch.load(sys.argv[2], map_location="cpu")["model_args"]
        train, _, vocab = load_text([os.path.join("/usr/share/games/fortunes", f) for f in args["text_files"]],
                                    args["val_every"])
        stoi = {c: i for i, c in enumerate(vocab)}
        block = args["block_size"]
        step = max(1, (len(train) - block) // 32)
        for s in range(0, 32 * step, step):
            print(" ".join(str(stoi[c]) for c in train[s:s + block]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
