"""Trains a Memory Mosaics model (tools/reference/memory_mosaics.py) on MQMTAR or on a character-level text corpus.

AdamW (the authors' two parameter groups), linear warm-up then cosine decay to min_lr, gradient clipping, a seed,
and a progress bar on a terminal (a log line every --log_interval steps otherwise). Saves `ckpt.pt` as the authors'
scripts do: {"model", "optimizer", "model_args" (every option, `method`, `vocab_size`), "iter_num", "loss_history"}.
`--ship FILE` also writes a copy without the optimizer state (optimizer: None, which the authors' resume code
accepts) for the repository.

Examples:
  python3 train.py --task mqmtar --method biweight --n_embd 128 --max_iters 6000 --out_dir runs/mq-biweight
  python3 train.py --task text --text_files /usr/share/games/fortunes/fortunes --out_dir runs/fortunes
"""
import argparse
import copy
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tasks"))
import mqmtar  # noqa: E402
from memory_mosaics import MODEL_ARG_NAMES, StackAssoMem  # noqa: E402


def str2bool(v):
    return str(v).lower() in ("1", "true", "yes", "y")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # general
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--method", type=str, default="softmax")
    p.add_argument("--out_dir", type=str, default="runs/default")
    p.add_argument("--device", type=str, default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", type=str, default="float32")
    p.add_argument("--compile", type=str2bool, default=False)
    p.add_argument("--eval_interval", type=int, default=500)
    p.add_argument("--log_interval", type=int, default=100)
    p.add_argument("--eval_iters", type=int, default=4)
    # data
    p.add_argument("--task", type=str, default="mqmtar", choices=["mqmtar", "text"])
    p.add_argument("--text_files", type=str, nargs="*", default=[])
    p.add_argument("--val_every", type=int, default=10, help="text: every n-th document is validation")
    p.add_argument("--collide", type=float, default=0.0,
                   help="mqmtar: share of training samples where a queried pair's first value token also "
                        "follows another key (hard examples; validation and evaluation keep the spec's stream)")
    # optimisation
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--learning_rate", type=float, default=2e-3)
    p.add_argument("--max_iters", type=int, default=6000)
    p.add_argument("--time_budget", type=float, default=0.0,
                   help="seconds: if > 0, max_iters is lowered after 60 steps so training ends in time")
    p.add_argument("--weight_decay", type=float, default=1e-1)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.95)
    p.add_argument("--grad_clip", type=float, default=1.0)
    p.add_argument("--decay_type", type=str, default="cosine")
    p.add_argument("--warmup_iters", type=int, default=300)
    p.add_argument("--min_lr", type=float, default=1e-4)
    # model (the authors' option names)
    p.add_argument("--block_size", type=int, default=128)
    p.add_argument("--n_layer", type=int, default=2)
    p.add_argument("--n_head", type=int, default=8)
    p.add_argument("--n_embd", type=int, default=128)
    p.add_argument("--v_shift", type=int, default=1)
    p.add_argument("--att_shift", type=int, default=0)
    p.add_argument("--pmem_size", type=int, default=256)
    p.add_argument("--pmem_count", type=int, default=1)
    p.add_argument("--ic_dropout", type=float, default=0.0)
    p.add_argument("--hd_dropout", type=float, default=0.0)
    p.add_argument("--bias", type=str2bool, default=False)
    p.add_argument("--weight_tying", type=str2bool, default=True)
    p.add_argument("--pre_ln", type=str2bool, default=True)
    p.add_argument("--k_kernel_size", type=int, default=1)
    p.add_argument("--v_kernel_size", type=int, default=2)
    p.add_argument("--k_fe_type", type=str, default="linearconv")
    p.add_argument("--v_fe_type", type=str, default="lowrlinearconv")
    p.add_argument("--skip_tokens", type=int, default=0)
    p.add_argument("--attn_only", type=str2bool, default=False)
    p.add_argument("--init_from", type=str, default="",
                   help="resume from this ckpt.pt (weights, optimizer, iter_num, loss_history); --max_iters more steps "
                        "with a fresh warm-up + cosine")
    p.add_argument("--keep_best", type=str2bool, default=False,
                   help="save the weights with the lowest validation loss (text: full validation perplexity)")
    p.add_argument("--ship", type=str, default="", help="also write a checkpoint without optimizer state here")
    return p.parse_args(argv)


def lr_at(it, a):
    it -= a.start_iter
    if it < a.warmup_iters:
        return a.learning_rate * (it + 1) / a.warmup_iters
    if it >= a.max_iters - a.start_iter:
        return a.min_lr
    ratio = (it - a.warmup_iters) / max(1, a.max_iters - a.start_iter - a.warmup_iters)
    return a.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (a.learning_rate - a.min_lr)


class Progress:
    """A one-line progress bar on a terminal; plain log lines otherwise."""

    def __init__(self, total, every):
        self.total, self.every, self.tty, self.t0 = total, every, sys.stderr.isatty(), time.time()

    def update(self, it, text):
        if self.tty:
            n = int(30 * (it + 1) / max(self.total, 1))
            eta = (time.time() - self.t0) / (it + 1) * (self.total - it - 1)
            sys.stderr.write(f"\r[{'#' * n}{'.' * (30 - n)}] {it + 1}/{self.total} {text} eta {eta:5.0f}s")
            sys.stderr.flush()
        elif it % self.every == 0:
            print(f"iter {it}/{self.total} {text} ({time.time() - self.t0:.0f}s)", flush=True)

    def close(self):
        if self.tty:
            sys.stderr.write("\n")


# ---------------------------------------------------------------- MQMTAR data
class MqmtarBatches:
    def __init__(self, seed, collide=0.0):
        self.gen = mqmtar.Mqmtar(seed)
        self.collide = collide

    def batch(self, n, length=mqmtar.TRAIN_LENGTH, vary=mqmtar.TRAIN_VARY):
        seqs = [mqmtar.wrap(*self.gen.sample(length, vary, self.collide)) for _ in range(n)]
        return collate_mqmtar(seqs)


def collate_mqmtar(seqs):
    """Right-padded inputs/targets; the loss mask covers the 13 predictions of target + EOS."""
    T = max(len(s) for s in seqs) - 1
    x = torch.full((len(seqs), T), mqmtar.PAD, dtype=torch.long)
    y = torch.full((len(seqs), T), -1, dtype=torch.long)
    for i, s in enumerate(seqs):
        n = len(s) - 1
        x[i, :n] = torch.tensor(s[:-1])
        y[i, n - mqmtar.TARGET_TOKENS:n] = torch.tensor(s[-mqmtar.TARGET_TOKENS:])
    return x, y


# ---------------------------------------------------------------- text data
def load_text(files, val_every):
    docs = []
    for f in files:
        raw = open(f, encoding="utf-8").read()
        docs += [d.strip("\n") for d in raw.split("\n%\n") if d.strip()]
    train = "\n\n".join(d for i, d in enumerate(docs) if i % val_every != val_every - 1) + "\n\n"
    val = "\n\n".join(d for i, d in enumerate(docs) if i % val_every == val_every - 1) + "\n\n"
    vocab = sorted(set(train) | set(val))
    return train, val, vocab


class TextBatches:
    def __init__(self, text, stoi, block, seed):
        self.data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
        self.block = block
        self.rng = torch.Generator().manual_seed(seed)

    def batch(self, n):
        ix = torch.randint(0, len(self.data) - self.block - 1, (n,), generator=self.rng)
        x = torch.stack([self.data[i:i + self.block] for i in ix])
        y = torch.stack([self.data[i + 1:i + 1 + self.block] for i in ix])
        return x, y


@torch.no_grad()
def text_perplexity(model, data, block, device):
    """Mean next-character loss over consecutive non-overlapping windows of `block` characters."""
    model.eval()
    total, count = 0.0, 0
    for s in range(0, len(data) - 1, block):
        x = data[s:s + block].unsqueeze(0).to(device)
        y = data[s + 1:s + 1 + block].unsqueeze(0).to(device)
        x = x[:, :y.shape[1]]
        loss = F.cross_entropy(model(x)[0], y[0], reduction="sum")
        total += loss.item()
        count += y.numel()
    model.train()
    return total / count


def checkpoint_dict(model, optimizer, conf, it, history):
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "model_args": dict(conf), "iter_num": it, "loss_history": history}


def save_atomically(obj, path):
    # a scratch folder keeps the final file name (torch names the zip's top folder after the file)
    tmp_dir = path + ".partial"
    os.makedirs(tmp_dir, exist_ok=True)
    tmp = os.path.join(tmp_dir, os.path.basename(path))
    torch.save(obj, tmp)
    os.replace(tmp, path)
    os.rmdir(tmp_dir)


def main(argv=None):
    a = parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    device = a.device
    conf = dict(vars(a))
    if a.task == "mqmtar":
        conf["vocab_size"] = mqmtar.VOCAB_SIZE
        data = MqmtarBatches(a.seed, a.collide)
        val_data = MqmtarBatches(a.seed + 7919)
        get_batch = data.batch
        get_val = val_data.batch
    else:
        train_text, val_text, vocab = load_text(a.text_files, a.val_every)
        stoi = {c: i for i, c in enumerate(vocab)}
        conf["vocab_size"] = len(vocab)
        conf["tokenizer"] = vocab
        conf["text_files"] = [os.path.basename(f) for f in a.text_files]
        data = TextBatches(train_text, stoi, a.block_size, a.seed)
        val_data = TextBatches(val_text, stoi, a.block_size, a.seed + 1)
        get_batch = data.batch
        get_val = val_data.batch
        val_tensor = torch.tensor([stoi[c] for c in val_text], dtype=torch.long)
    model = StackAssoMem(**{k: conf[k] for k in MODEL_ARG_NAMES}).to(device)
    optimizer = model.configure_optimizers(a.weight_decay, a.learning_rate, (a.beta1, a.beta2))
    nparams = sum(p.numel() for p in model.parameters())
    print(f"{a.task}/{a.method}: {nparams:,} parameters on {device}", flush=True)
    history = {"train": [], "val": [], "iter": []}
    a.start_iter = 0
    if a.init_from:
        old = torch.load(a.init_from, map_location="cpu")
        model.load_state_dict(old["model"])
        if old.get("optimizer") is not None:
            optimizer.load_state_dict(old["optimizer"])
        history = old.get("loss_history", history)
        a.start_iter = int(old["iter_num"])
        conf["init_from_iter"] = a.start_iter
        print(f"resumed from {a.init_from} at iter {a.start_iter}", flush=True)
    a.max_iters += a.start_iter  # --max_iters counts the steps of this run
    progress = Progress(a.max_iters, a.log_interval)
    t_start = time.time()
    it = a.start_iter
    best = None
    while it < a.max_iters:
        for g in optimizer.param_groups:
            g["lr"] = lr_at(it, a)
        x, y = get_batch(a.batch_size)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if a.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
        optimizer.step()
        if it == a.start_iter + 10:
            t_warm = time.time()  # the first steps pay for CUDA/cuBLAS start-up: time the next 50
        if it == a.start_iter + 60 and a.time_budget > 0:
            per_step = (time.time() - t_warm) / 50
            remaining = a.time_budget - (time.time() - t_start)
            a.max_iters = max(a.start_iter + 100, min(a.max_iters, it + 1 + int(remaining / per_step)))
            conf["max_iters"] = a.max_iters - a.start_iter
            progress.total = a.max_iters
            print(f"time budget {a.time_budget:.0f}s at {per_step * 1000:.1f} ms/step: max_iters = {a.max_iters}",
                  flush=True)
        if it % a.eval_interval == 0 or it == a.max_iters - 1:
            model.eval()
            with torch.no_grad():
                vl = []
                for _ in range(a.eval_iters):
                    vx, vy = get_val(a.batch_size)
                    vlog = model(vx.to(device))
                    vl.append(F.cross_entropy(vlog.reshape(-1, vlog.shape[-1]), vy.to(device).reshape(-1),
                                              ignore_index=-1).item())
            model.train()
            history["train"].append(loss.item())
            history["val"].append(sum(vl) / len(vl))
            if a.task == "text":
                history["val"][-1] = text_perplexity(model, val_tensor, a.block_size, device)
            if a.keep_best and (best is None or history["val"][-1] < best[0]):
                best = (history["val"][-1], it + 1, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                        copy.deepcopy(optimizer.state_dict()))
            history["iter"].append(it)
            if not progress.tty:
                print(f"[eval] iter {it}: train loss {loss.item():.4f}, val loss {history['val'][-1]:.4f}",
                      flush=True)
        progress.update(it, f"loss {loss.item():.4f} lr {lr_at(it, a):.2e}")
        it += 1
    progress.close()
    model.eval()
    final_it = it
    if best is not None:
        model.load_state_dict(best[2])
        optimizer.load_state_dict(best[3])
        it = best[1]
        print(f"keeping the weights of iter {it} (validation loss {best[0]:.4f})", flush=True)
    summary = {"iters": it, "iters_run": final_it, "seconds": round(time.time() - t_start, 1), "parameters": nparams,
               "final_train_loss": history["train"][-1], "final_val_loss": history["val"][-1]}
    if a.task == "text":
        val_nll = text_perplexity(model, val_tensor, a.block_size, device)
        summary.update({"val_nll": val_nll, "val_perplexity": math.exp(val_nll), "val_chars": len(val_text)})
        history["val_perplexity"] = math.exp(val_nll)
    model.cpu()  # CPU storages (tied emb/head stay one storage), as a reader on any machine expects
    ckpt = checkpoint_dict(model, optimizer, conf, it, history)
    save_atomically(ckpt, os.path.join(a.out_dir, "ckpt.pt"))
    if a.ship:
        save_atomically(checkpoint_dict(model, None, conf, it, history), a.ship)
    with open(os.path.join(a.out_dir, "train_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("done:", json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
