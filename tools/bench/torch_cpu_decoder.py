#!/usr/bin/env python3
"""Cached PyTorch CPU float32 decoder for Memory Mosaics (the comparison point of the int8 benchmark).

The reference model (tools/reference/memory_mosaics.py) decoded token by token by the reference cached decoder
(tools/reference/cached_decoder.py: same math and cache policy as Tessera's runtimes, docs/model.md "Cached
decoding"), softmax attention as one softmax of the scores, random weights (the authors' initialisation, seeded) shaped like the benchmark's
models. Decodes positions 0..127 repeatedly and prints tokens/s and the process's peak RSS.
Usage: torch_cpu_decoder.py --config fixture|mid|gpt2 --threads N [--seconds S]
"""
import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from cached_decoder import CachedDecoder  # noqa: E402
from memory_mosaics import StackAssoMem  # noqa: E402

# vocab, C, heads, layers, memory slots
CONFIGS = {"fixture": (101, 32, 4, 2, 40), "mid": (4096, 256, 4, 4, 896), "gpt2": (50304, 768, 12, 12, 2688)}


class SoftmaxDecoder(CachedDecoder):
    """Softmax attention as one product-softmax-product (the reference's general transform masks and checks rows
    first, which costs a measurable share of a small model's step)."""

    def attend(self, layer, query, keys, values):
        return torch.softmax(query @ keys.transpose(-1, -2), dim=-1) @ values


def make_decoder(config, window):
    V, C, H, L, N = CONFIGS[config]
    torch.manual_seed(1234)
    model = StackAssoMem(vocab_size=V, method="softmax", n_head=H, n_embd=C, n_layer=L, pmem_size=N,
                         block_size=window, ic_dropout=0.0, hd_dropout=0.0)
    return SoftmaxDecoder(model, window)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="fixture", choices=CONFIGS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dec = make_decoder(a.config, window=128)
    vocab = CONFIGS[a.config][0]
    for i in range(4):  # warm-up
        dec.step(i % vocab)
    dec.reset()
    n, start, cpu0 = 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - start < a.seconds:
        if dec.t == dec.capacity:
            dec.reset()
        dec.step((n * 7919) % vocab)
        n += 1
    tps = n / (time.perf_counter() - start)
    cpu_tps = n / max(time.thread_time() - cpu0, 1e-9)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{a.config:8s} {'pytorch ' + torch.__version__ + ' cpu f32':28s} {a.threads:7d} {tps:14.1f} {cpu_tps:13.1f} "
          f"{rss:14.1f} {'-':>10s}")


if __name__ == "__main__":
    main()
